/// Holds a channel's reads while the other side of an exchange cannot keep up: a handler passes its
/// outbound `read` events through the gate, and issues the held one when the last reason to hold is gone.
struct ReadGate {
  /// Reasons to hold, one bit each.
  private var holds: UInt8 = 0
  private var readPending = false

  mutating func hold(_ reason: UInt8) { holds |= reason }

  /// Lifts `reason`; true when a read was held and must be issued now.
  mutating func release(_ reason: UInt8) -> Bool {
    holds &= ~reason
    guard holds == 0, readPending else { return false }
    readPending = false
    return true
  }

  /// True when a read may go ahead now; otherwise it is remembered until the gate opens.
  mutating func admit() -> Bool {
    guard holds != 0 else { return true }
    readPending = true
    return false
  }
}
