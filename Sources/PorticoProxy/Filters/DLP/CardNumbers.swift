import PorticoCore

/// Payment card numbers in text: runs of 13 to 19 digits (single spaces or dashes between digits allowed),
/// not part of a longer word or number, whose issuer prefix and length name a brand and whose Luhn sum
/// holds. A number that fails Luhn is left alone: most digit runs of that length are not cards.
enum CardNumbers {
  enum Brand: String, CaseIterable, Sendable {
    case visa = "VISA"
    case mastercard = "MASTERCARD"
    case amex = "AMEX"
    case discover = "DISCOVER"
    case jcb = "JCB"
    case dinersClub = "DINERS_CLUB"
  }

  /// One card number found: the bytes it spans, and where its digits are.
  struct Found {
    let range: Range<Int>
    let digits: [Int]
    let brand: Brand
  }

  /// Calls `found` with each card number in `bytes`, in order.
  static func scan(_ bytes: UnsafeBufferPointer<UInt8>, _ found: (Found) -> Void) {
    var index = 0
    let count = bytes.count
    while index < count {
      guard bytes[index].isASCIIDigit, index == 0 || !isWordByte(bytes[index - 1]) else {
        index += 1
        continue
      }
      // The run: groups of digits with one space or dash between them.
      var groups: [[Int]] = [[index]]
      var end = index + 1
      while end < count {
        if bytes[end].isASCIIDigit {
          groups[groups.count - 1].append(end)
          end += 1
        } else if bytes[end] == UInt8(ascii: " ") || bytes[end] == UInt8(ascii: "-"), end + 1 < count,
          bytes[end + 1].isASCIIDigit
        {
          groups.append([])
          end += 1
        } else {
          break
        }
      }
      index = end
      guard end == count || !isWordByte(bytes[end]) else { continue }
      // A number is whole groups: the longest card starting at each group, then on after it.
      var first = 0
      while first < groups.count {
        var card: Found?
        var digits: [Int] = []
        for last in first..<groups.count {
          digits += groups[last]
          if digits.count > 19 { break }
          guard digits.count >= 13 else { continue }
          let values = digits.map { Int(bytes[$0] - UInt8(ascii: "0")) }
          if let brand = brand(of: values), luhnHolds(values) {
            card = Found(range: digits[0]..<(digits[digits.count - 1] + 1), digits: digits, brand: brand)
          }
        }
        guard let card else {
          first += 1
          continue
        }
        found(card)
        first = groups.firstIndex { $0.first! > card.range.upperBound - 1 } ?? groups.count
      }
    }
  }

  /// The brand whose issuer prefixes and lengths the digits have.
  static func brand(of digits: [Int]) -> Brand? {
    func prefix(_ length: Int) -> Int { digits.prefix(length).reduce(0) { $0 * 10 + $1 } }
    let length = digits.count
    if [13, 16, 19].contains(length), digits[0] == 4 { return .visa }
    if length == 16, (51...55).contains(prefix(2)) || (2221...2720).contains(prefix(4)) { return .mastercard }
    if length == 15, [34, 37].contains(prefix(2)) { return .amex }
    if (16...19).contains(length),
      prefix(4) == 6011 || prefix(2) == 65 || (644...649).contains(prefix(3))
        || (622_126...622_925).contains(prefix(6))
    {
      return .discover
    }
    if (16...19).contains(length), (3528...3589).contains(prefix(4)) { return .jcb }
    if (14...19).contains(length), (300...305).contains(prefix(3)) || [36, 38, 39].contains(prefix(2)) {
      return .dinersClub
    }
    return nil
  }

  /// The Luhn check (ISO/IEC 7812): doubling every second digit from the right, the sum is a multiple of 10.
  static func luhnHolds(_ digits: [Int]) -> Bool {
    var sum = 0
    for (position, digit) in digits.reversed().enumerated() {
      if position % 2 == 1 {
        let doubled = digit * 2
        sum += doubled > 9 ? doubled - 9 : doubled
      } else {
        sum += digit
      }
    }
    return sum % 10 == 0
  }

  private static func isWordByte(_ byte: UInt8) -> Bool {
    byte.isASCIIDigit || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20)
      || byte == UInt8(ascii: "_")
  }
}
