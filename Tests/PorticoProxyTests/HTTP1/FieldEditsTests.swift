import XCTest

@testable import PorticoProxy

/// What a filter's edits drop and add: lists handed over whole and names one at a time give the same
/// result, protected fields stay, and a removal drops what was added before it.
final class FieldEditsTests: XCTestCase {
  func testListsHandedOverWholeDropTheirNames() {
    var edits = FieldEdits()
    edits.remove(all: ["x-email", "x-user-id"])
    edits.remove(all: ["authorization"])
    edits.remove(all: ["cookie"])  // a third list: taken name by name
    for name in ["X-Email", "x-user-id", "Authorization", "cookie"] {
      XCTAssertTrue(edits.removes(name), name)
    }
    XCTAssertFalse(edits.removes("accept"))
  }

  func testProtectedFieldsStayWhicheverWayTheyAreNamed() {
    var edits = FieldEdits()
    edits.remove(all: ["host", "authorization"])
    edits.remove("content-length")
    XCTAssertFalse(edits.removes("host"))
    XCTAssertFalse(edits.removes("content-length"))
    XCTAssertTrue(edits.removes("authorization"))
  }

  func testARemovalDropsWhatWasAddedBefore() {
    var edits = FieldEdits()
    edits.add("x-user-id", "alice")
    edits.remove(all: ["x-user-id"])
    XCTAssertTrue(edits.added.isEmpty)
    edits.add("x-user-id", "bob")
    XCTAssertEqual(edits.added.map(\.value), ["bob"])
  }
}
