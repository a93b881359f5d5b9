import NIOCore

/// Retries (`retries`): each try, the decision to try again, and a try's own timeout.
extension Exchange {
  /// Sends the request to an endpoint (one not tried yet, when retrying and another is healthy).
  func startTry() {
    guard let upstream else { return }
    if let retry, retry.tries > 0, !retry.isReplayable {
      // The body outgrew what is kept while the retry waited: it cannot be sent whole.
      return respond(
        503, body: "upstream request failed; its body is too large to retry\n", flag: .retryLimitExceeded)
    }
    let now = NIODeadline.now()
    guard
      let endpoint = upstream.pickEndpoint(now: now, random: &loop.random, avoiding: retry?.tried ?? [])
    else {
      return respond(503, body: "no healthy upstream\n", flag: .noHealthyUpstream)
    }
    self.endpoint = endpoint
    retry?.started(on: endpoint)
    if let perTry = route?.retry?.perTryTimeout {
      tryTimeoutSlot = loop.deadlines.add(deadline: now + perTry, owner: TryDeadline(self))
    }
    upstreamStarted = now
    upstreamRequestComplete = false
    awaitingConnection = true
    if let retry {
      poolTicket = endpoint.pool.acquire(for: TryWaiter(self, try: retry.tries, endpoint: endpoint))
    } else {
      poolTicket = endpoint.pool.acquire(for: self)
    }
  }

  /// Whether a connection for try `number` is still wanted.
  func isAwaitingConnection(forTry number: Int) -> Bool {
    awaitingConnection && retry?.tries == number
  }

  /// After a failed try: whether another one is allowed (tries left, a body that can be replayed, a
  /// response not yet begun, the upstream's retry budget). If so it starts after a back-off.
  ///
  /// The failed try counts against its endpoint's health here, unless the caller has `recorded` it.
  func retryIfAllowed(recorded: Bool = false) -> Bool {
    guard let policy = route?.retry, var progress = retry, let upstream, !finished, !responseStarted,
      progress.isReplayable, progress.tries <= policy.attempts
    else {
      if let retry, let policy = route?.retry, retry.tries > policy.attempts {
        flags.append(.retryLimitExceeded)
      }
      return false
    }
    if !progress.holdsBudget {
      guard upstream.admitsRetry else {
        loop.services.metrics.retriesOverBudget.increment()
        flags.append(.retryLimitExceeded)
        return false
      }
      upstream.retriesInFlight += 1
      progress.holdsBudget = true
    }
    retry = progress
    loop.services.metrics.retries.increment()
    if !recorded, let endpoint { loop.recordOutcome(upstream, endpoint: endpoint, failed: true) }
    endTry()
    let delay = RetryRuntime.backoff(retry: progress.tries, random: &loop.random)
    retryTimer = loop.eventLoop.assumeIsolated().scheduleTask(in: delay) { [self] in
      retryTimer = nil
      guard !finished, !responseStarted else { return }
      startTry()
    }
    return true
  }

  /// The response has begun: no more retries, so the body kept to replay and the budget slot go.
  func stopRetrying() {
    guard var progress = retry else { return }
    progress.stopKeeping()
    if progress.holdsBudget {
      upstream?.retriesInFlight -= 1
      progress.holdsBudget = false
    }
    retry = progress
    retryTimer?.cancel()
    retryTimer = nil
  }

  /// Lets go of what the current try holds: its connection and its deadline.
  func endTry() {
    awaitingConnection = false
    if let tryTimeoutSlot { loop.deadlines.remove(tryTimeoutSlot) }
    tryTimeoutSlot = nil
    if let poolTicket { endpoint?.pool.cancel(ticket: poolTicket) }
    poolTicket = nil
    releaseConnection(reusable: false)
    toUpstream = nil
  }

  /// The current try took longer than `perTryTimeout`.
  func tryTimedOut() {
    tryTimeoutSlot = nil
    guard !finished, !responseStarted else { return }
    loop.services.metrics.upstreamTimeouts.increment()
    if retryIfAllowed() { return }
    giveUpOnUpstream(504, body: "upstream request timeout\n", flag: .upstreamTimeout)
  }
}
