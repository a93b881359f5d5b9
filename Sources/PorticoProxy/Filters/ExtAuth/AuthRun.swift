import NIOCore

/// One request's way through its AuthConfig: steps run in order (or as `booleanExpr` needs them), each
/// answering at once or after asking its backend. While a step waits the request is suspended, for at
/// most the settings' `requestTimeout` in all; a step that does not answer by then has failed. A failed
/// step decides at once (`statusOnError`, or through with `failureModeAllow`) unless it passes on failure.
final class AuthRun {
  private let filter: ExtAuthFilter
  private let call: FilterCall
  private var outcomes: [AuthOutcome?]
  /// The step whose backend is being asked.
  private var waitingOn: Int?
  /// Set while a step's `check` runs: an answer given from inside it is taken by the loop in `advance`.
  private var checking = false
  private var resume: FilterResume?
  private var timer: Scheduled<Void>?
  /// The time is up: a step that would wait fails instead.
  private var timedOut = false

  init(_ filter: ExtAuthFilter, _ call: FilterCall) {
    self.filter = filter
    self.call = call
    outcomes = Array(repeating: nil, count: filter.stepCount)
  }

  func start() -> FilterVerdict {
    if let verdict = advance() { return verdict }
    let resume = call.suspend()
    self.resume = resume
    let timer = call.loop.eventLoop.assumeIsolated().scheduleTask(in: filter.timeout) { [self] in
      timedOut = true
      guard let position = waitingOn else { return }
      finished(position, .failed(reason: "no answer within the request timeout"))
    }
    self.timer = timer
    resume.onCancel { timer.cancel() }
    return .suspend
  }

  /// Runs steps until the outcome is known (the verdict), or a step waits on its backend (nil).
  private func advance() -> FilterVerdict? {
    while true {
      switch filter.progress(outcomes) {
      case .decided(let allowed):
        return filter.verdict(allowed: allowed, outcomes, call)
      case .needs(let position):
        let step = filter.step(at: position)
        if let known = step.outcomeAtOnce(call) {
          outcomes[position] = known
          if let verdict = failureVerdict(at: position) { return verdict }
          continue
        }
        waitingOn = position
        checking = true
        let immediate = step.check(call) { [self] in finished(position, $0) }
        checking = false
        if let immediate { outcomes[position] = immediate }
        if outcomes[position] == nil, timedOut {
          outcomes[position] = .failed(reason: "no answer within the request timeout")
        }
        guard outcomes[position] != nil else { return nil }
        waitingOn = nil
        if let verdict = failureVerdict(at: position) { return verdict }
      }
    }
  }

  /// A failed step decides the request at once (`statusOnError`), unless it passes on failure; either way
  /// the failure is counted.
  private func failureVerdict(at position: Int) -> FilterVerdict? {
    guard let outcome = outcomes[position], outcome.isFailure else { return nil }
    guard filter.step(at: position).passesWhenFailed else { return filter.failedVerdict(call) }
    filter.passedOnFailure(call)
    return nil
  }

  /// A step's backend answered (or the time ran out), on the request's loop.
  private func finished(_ position: Int, _ outcome: AuthOutcome) {
    guard waitingOn == position, outcomes[position] == nil else { return }
    outcomes[position] = outcome
    if checking { return }
    waitingOn = nil
    // The request ended while it waited (the client left): nothing is left to decide.
    guard let resume, call.suspension === resume else { return }
    guard let verdict = failureVerdict(at: position) ?? advance() else { return }
    timer?.cancel()
    switch verdict {
    case .answer(let answer): resume.answer(answer)
    default: resume.proceed()
    }
  }
}
