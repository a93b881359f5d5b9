/// Rate limiting (spec §1.7): the rules a rate-limit server keeps (RateLimitServerConfig) and how a gateway
/// turns a request into descriptors for them (RateLimitActions, inline on a route or in a
/// RateLimitClientConfig). Field names follow Gloo's and Envoy's, so their manifests load unchanged.

/// The server side: rules over descriptors. Rules of different configs never share counters.
public struct RateLimitServerConfigSpec: Codable, Hashable, Sendable {
  public var raw: RateLimitRules?

  public init(raw: RateLimitRules? = nil) { self.raw = raw }
}

/// Descriptor rules as Envoy's rate-limit service reads them, and Gloo's set-style rules.
public struct RateLimitRules: Codable, Hashable, Sendable {
  public var descriptors: [RateLimitDescriptor]?
  public var setDescriptors: [RateLimitSetDescriptor]?

  public init(descriptors: [RateLimitDescriptor]? = nil, setDescriptors: [RateLimitSetDescriptor]? = nil) {
    self.descriptors = descriptors
    self.setDescriptors = setDescriptors
  }
}

/// How many requests a rule lets through per window.
public struct RateLimit: Codable, Hashable, Sendable {
  public enum Unit: String, Codable, Hashable, Sendable, CaseIterable {
    case second = "SECOND"
    case minute = "MINUTE"
    case hour = "HOUR"
    case day = "DAY"

    /// The window's length, in seconds.
    public var seconds: Int {
      switch self {
      case .second: 1
      case .minute: 60
      case .hour: 3600
      case .day: 86_400
      }
    }
  }

  public var unit: Unit
  public var requestsPerUnit: UInt32

  public init(unit: Unit, requestsPerUnit: UInt32) {
    self.unit = unit
    self.requestsPerUnit = requestsPerUnit
  }
}

/// One level of a descriptor tree: a key (and value), a limit, more specific levels below.
public struct RateLimitDescriptor: Codable, Hashable, Sendable {
  public var key: String
  /// Omitted: every distinct value of the key is counted apart.
  public var value: String?
  public var rateLimit: RateLimit?
  public var descriptors: [RateLimitDescriptor]?
  /// Among the rules a request matches, only those of the highest weight count (and `alwaysApply` ones).
  public var weight: UInt32?
  public var alwaysApply: Bool?
  /// Counts and reports, never refuses.
  public var shadowMode: Bool?
}

/// A set-style rule: matches when its pairs are a subset of the request's set, in any order.
public struct RateLimitSetDescriptor: Codable, Hashable, Sendable {
  public struct SimpleDescriptor: Codable, Hashable, Sendable {
    public var key: String
    /// Omitted: any value of the key.
    public var value: String?
  }

  public var simpleDescriptors: [SimpleDescriptor]?
  public var rateLimit: RateLimit?
  public var alwaysApply: Bool?
  public var shadowMode: Bool?
}

/// The client side: how a request becomes descriptors.
public struct RateLimitActions: Codable, Hashable, Sendable {
  /// One descriptor, its entries in this order; it is dropped when any action yields no value.
  public var actions: [RateLimitAction]?
  /// One set, in no order; an action that yields no value leaves its entry out.
  public var setActions: [RateLimitAction]?
}

/// One entry of a descriptor, from the request.
public struct RateLimitAction: Codable, Hashable, Sendable {
  public struct Empty: Codable, Hashable, Sendable {}

  public struct RequestHeaders: Codable, Hashable, Sendable {
    public var headerName: String
    public var descriptorKey: String
  }

  public struct GenericKey: Codable, Hashable, Sendable {
    public var descriptorValue: String
    /// Default `generic_key`.
    public var descriptorKey: String?
  }

  public struct HeaderValueMatch: Codable, Hashable, Sendable {
    public var descriptorValue: String
    /// Default true: the entry is produced when the headers match; false: when they do not.
    public var expectMatch: Bool?
    public var headers: [RateLimitHeaderMatcher]?
    /// Default `header_match`.
    public var descriptorKey: String?
  }

  public struct Metadata: Codable, Hashable, Sendable {
    public struct Key: Codable, Hashable, Sendable {
      public struct Segment: Codable, Hashable, Sendable {
        public var key: String
      }

      public var key: String
      public var path: [Segment]?
    }

    public var descriptorKey: String
    public var metadataKey: Key
    public var defaultValue: String?
    /// `DYNAMIC` (the default) or `ROUTE_ENTRY`.
    public var source: String?
  }

  public var sourceCluster: Empty?
  public var destinationCluster: Empty?
  public var requestHeaders: RequestHeaders?
  public var remoteAddress: Empty?
  public var genericKey: GenericKey?
  public var headerValueMatch: HeaderValueMatch?
  public var metadata: Metadata?
}

/// Envoy's header matcher, as rate-limit actions write it.
public struct RateLimitHeaderMatcher: Codable, Hashable, Sendable {
  public struct SafeRegex: Codable, Hashable, Sendable {
    public var regex: String
  }

  public var name: String
  public var exactMatch: String?
  public var prefixMatch: String?
  public var suffixMatch: String?
  public var containsMatch: String?
  public var safeRegexMatch: SafeRegex?
  /// Gloo's spelling of a regex match.
  public var regexMatch: String?
  public var presentMatch: Bool?
  public var invertMatch: Bool?
}

/// RateLimitClientConfig: actions kept apart from the routes that use them.
public struct RateLimitClientConfigSpec: Codable, Hashable, Sendable {
  public struct RateLimits: Codable, Hashable, Sendable {
    public var raw: RawActions?
  }

  public var rateLimits: RateLimits?
}

/// `raw{rateLimits[]}`, on a route or in a RateLimitClientConfig.
public struct RawActions: Codable, Hashable, Sendable {
  public var rateLimits: [RateLimitActions]?

  public init(rateLimits: [RateLimitActions]? = nil) { self.rateLimits = rateLimits }
}
