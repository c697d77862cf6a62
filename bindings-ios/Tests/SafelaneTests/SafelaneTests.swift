// XCTest tests of the Swift bindings, run on Linux against the host build of
// the library (bindings/swift-tests.sh): the same scenarios as the Kotlin
// tests. The trip is the simulator's, converted to iOS conventions (g with
// the opposite sign, s since boot).
import Foundation
import XCTest
@testable import Safelane

private let t0UnixMs: Int64 = 1_763_800_000_000

private func env(_ name: String) -> String {
    guard let v = ProcessInfo.processInfo.environment[name] else { fatalError("\(name) missing") }
    return v
}

private func rows(_ file: String) -> [[String]] {
    let text = (try? String(contentsOfFile: env("SAFELANE_TRIP") + "/" + file, encoding: .utf8)) ?? ""
    return text.split(separator: "\n").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
}

/// The trip's IMU samples in iOS conventions.
private func readImu() -> [ImuSample] {
    let g = 9.80665
    return rows("imu.csv").map { c in
        func opt(_ i: Int) -> Double? { i < c.count && !c[i].isEmpty ? Double(c[i]) : nil }
        return ImuSample(timestamp: Double(c[0])!, ax: -Double(c[1])! / g, ay: -Double(c[2])! / g, az: -Double(c[3])! / g,
                         gx: opt(4), gy: opt(5), gz: opt(6))
    }
}

private func readGps() -> [GpsFix] {
    rows("gps.csv").map { c in
        func opt(_ i: Int) -> Double? { i < c.count && !c[i].isEmpty ? Double(c[i]) : nil }
        return GpsFix(timestamp: Double(c[0])!, latDeg: Double(c[1])!, lonDeg: Double(c[2])!,
                      speedMps: opt(3), bearingDeg: opt(4), accuracyM: opt(5))
    }
}

private func config(_ path: String?) -> Config {
    Config(vehicle: .car, platform: .ios, outboxPath: path, outboxMaxEvents: 100_000, autoTrips: false, utcOffsetMin: 0)
}

private func pushTrip(_ sdk: Safelane, _ imu: [ImuSample], _ gps: [GpsFix]) throws {
    var gi = 0
    var i = 0
    while i < imu.count {
        let batch = Array(imu[i..<min(i + 100, imu.count)])
        _ = try sdk.pushImu(samples: batch)
        let end = batch.last!.timestamp
        let from = gi
        while gi < gps.count && gps[gi].timestamp <= end { gi += 1 }
        if gi > from { _ = try sdk.pushGps(fixes: Array(gps[from..<gi])) }
        i += 100
    }
    if gi < gps.count { _ = try sdk.pushGps(fixes: Array(gps[gi...])) }
}

/// The server's contract in memory: idempotent by event id, per-event status.
private final class FakeServer: @unchecked Sendable {
    var stored: [String: Int] = [:]
    var requests = 0
    private let lock = NSLock()

    func handle(_ request: HttpRequest) -> HttpResponse {
        lock.lock(); defer { lock.unlock() }
        requests += 1
        var auth: String?
        var i = 0
        while i + 1 < request.headers.count { if request.headers[i] == "authorization" { auth = request.headers[i + 1] }; i += 2 }
        guard auth == "Bearer dev1.s3cret" else { return HttpResponse(status: 401, retryAfter: nil, body: Data()) }
        guard let obj = try? JSONSerialization.jsonObject(with: request.body) as? [String: Any] else {
            return HttpResponse(status: 400, retryAfter: nil, body: Data())
        }
        let events = (obj["events"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        let trips = (obj["trips"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        var statuses: [[String: Any]] = []
        for id in events {
            if stored[id] != nil { statuses.append(["id": id, "status": "duplicate"]) } else {
                stored[id] = 1
                statuses.append(["id": id, "status": "stored"])
            }
        }
        let reply: [String: Any] = ["events": statuses, "trips": trips.map { ["id": $0, "status": "stored"] }]
        return HttpResponse(status: 200, retryAfter: nil, body: try! JSONSerialization.data(withJSONObject: reply))
    }
}

private func fastSettings() -> SyncSettings {
    var s = defaultSyncSettings(baseUrl: "http://fleet.invalid", deviceId: "dev1", deviceSecret: "s3cret")
    s.baseBackoffMs = 1
    s.maxBackoffMs = 5
    s.batchSize = 1
    return s
}

final class SafelaneTests: XCTestCase {
    func testRecordsASimulatedTripWithAlerts() throws {
        let sdk = try Safelane(config: config(nil))
        var alerts: [Alert] = []
        try sdk.setListener(listener: AlertClosure { alerts.append($0) })
        let imu = readImu()
        let tripId = try sdk.startTrip(nowUnixMs: t0UnixMs, nowBootS: imu[0].timestamp)
        try pushTrip(sdk, imu, readGps())
        XCTAssertEqual(try sdk.orientation().state, "locked")
        let summary = try sdk.stopTrip()
        XCTAssertEqual(alerts.count, Int(env("SAFELANE_EXPECTED_EVENTS"))!)
        XCTAssertTrue(alerts.allSatisfy { $0.tripId == tripId && $0.startUnixMs >= t0UnixMs })
        XCTAssertEqual(Int(summary.events.reduce(0, +)), alerts.count)
        XCTAssertGreaterThan(summary.distanceM, 1000)
        XCTAssertEqual(try sdk.outboxCounts().pendingEvents, UInt64(alerts.count))
    }

    func testTheBatcherPushesPackedBatches() throws {
        let sdk = try Safelane(config: config(nil))
        let imu = Array(readImu().prefix(1000))
        _ = try sdk.startTrip(nowUnixMs: t0UnixMs, nowBootS: imu[0].timestamp)
        let batcher = ImuBatcher(sdk: sdk, size: 128)
        var accepted: UInt32 = 0
        for s in imu {
            if let r = try batcher.add(timestamp: s.timestamp, ax: s.ax, ay: s.ay, az: s.az, gx: s.gx, gy: s.gy, gz: s.gz) { accepted += r.accepted }
        }
        if let r = try batcher.flush() { accepted += r.accepted }
        XCTAssertGreaterThanOrEqual(accepted, 990)
        _ = try sdk.stopTrip()
    }

    func testSyncSurvivesFailuresDuplicatesDelaysAndRestarts() throws {
        let db = NSTemporaryDirectory() + "safelane-swift-\(getpid()).db"
        try? FileManager.default.removeItem(atPath: db)
        let server = FakeServer()
        var seed: UInt64 = 42
        func roll() -> Int { seed = seed &* 6364136223846793005 &+ 1442695040888963407; return Int(seed >> 33) % 10 }
        var faults = 0
        let flaky = TransportClosure { request in
            switch roll() {
            case 0, 1: faults += 1; throw TransportError.Network(reason: "connection reset")
            case 2: _ = server.handle(request); faults += 1; throw TransportError.Network(reason: "timed out after delivery")
            case 3: faults += 1; _ = server.handle(request); return server.handle(request)
            case 4: faults += 1; return HttpResponse(status: 429, retryAfter: "0", body: Data())
            case 5: Thread.sleep(forTimeInterval: 0.02); return server.handle(request)
            default: return server.handle(request)
            }
        }
        var recorded = Set<String>()
        var sdk = try Safelane(config: config(db))
        try sdk.setListener(listener: AlertClosure { recorded.insert($0.id) })
        let imu = readImu()
        _ = try sdk.startTrip(nowUnixMs: t0UnixMs, nowBootS: imu[0].timestamp)
        try pushTrip(sdk, imu, readGps())
        _ = try sdk.stopTrip()
        sdk = try Safelane(config: config(db)) // restarted on the same database
        XCTAssertEqual(try sdk.outboxCounts().pendingEvents, UInt64(recorded.count))
        var rounds = 0
        while try sdk.outboxCounts().pendingEvents > 0 && rounds < 100 {
            rounds += 1
            do { _ = try sdk.sync(transport: flaky, settings: fastSettings()) } catch SafelaneError.Sync(_, let retryable) {
                XCTAssertTrue(retryable)
            }
            if rounds % 3 == 0 { sdk = try Safelane(config: config(db)) }
        }
        XCTAssertEqual(try sdk.outboxCounts().pendingEvents, 0)
        XCTAssertEqual(Set(server.stored.keys), recorded)
        XCTAssertTrue(server.stored.values.allSatisfy { $0 == 1 })
        XCTAssertGreaterThan(faults, 0)
    }

    func testWrongCredentialsAreNotRetried() throws {
        let sdk = try Safelane(config: config(nil))
        let imu = readImu()
        _ = try sdk.startTrip(nowUnixMs: t0UnixMs, nowBootS: imu[0].timestamp)
        try pushTrip(sdk, Array(imu.prefix(20_000)), Array(readGps().prefix(200)))
        _ = try sdk.stopTrip()
        let server = FakeServer()
        var s = fastSettings()
        s.deviceSecret = "wrong"
        XCTAssertThrowsError(try sdk.sync(transport: TransportClosure { server.handle($0) }, settings: s)) { error in
            guard case SafelaneError.Sync(let reason, let retryable) = error else { return XCTFail("\(error)") }
            XCTAssertFalse(retryable)
            XCTAssertFalse(reason.contains("wrong"))
        }
        XCTAssertEqual(server.requests, 1)
    }

    func testTheReadmeSampleRuns() throws {
        let db = NSTemporaryDirectory() + "safelane-readme-\(getpid()).db"
        try? FileManager.default.removeItem(atPath: db)
        let server = FakeServer()
        let imu = Array(readImu().prefix(30_000))
        let gps = readGps().filter { $0.timestamp <= imu.last!.timestamp }
        let report = try recordAndSync(db: db, imu: imu, fixes: gps) { req in
            // The sample's credentials are placeholders: answer as the server would for this device.
            var r = req
            r.headers = ["authorization", "Bearer dev1.s3cret"]
            return server.handle(r)
        }
        XCTAssertEqual(report.acknowledged, UInt64(server.stored.count))
    }

    func testErrorsComeBackAsErrorsNotCrashes() throws {
        XCTAssertThrowsError(try Safelane(config: Config(vehicle: .car, platform: .ios, outboxPath: nil, outboxMaxEvents: 100, autoTrips: false, utcOffsetMin: 100_000)))
        let sdk = try Safelane(config: config(nil))
        XCTAssertThrowsError(try sdk.pushImu(samples: [ImuSample(timestamp: 0, ax: 0, ay: 0, az: -1, gx: nil, gy: nil, gz: nil)])) { error in
            guard case SafelaneError.InvalidState = error else { return XCTFail("\(error)") }
        }
        _ = try sdk.startTrip(nowUnixMs: t0UnixMs, nowBootS: 0)
        let r = try sdk.pushImu(samples: [
            ImuSample(timestamp: .nan, ax: 0, ay: 0, az: -1, gx: nil, gy: nil, gz: nil),
            ImuSample(timestamp: 1, ax: .infinity, ay: 0, az: -1, gx: nil, gy: nil, gz: nil),
            ImuSample(timestamp: 2, ax: 1e300, ay: 0, az: -1, gx: .nan, gy: 1, gz: 1),
            ImuSample(timestamp: -1e18, ax: 0, ay: 0, az: -1, gx: nil, gy: nil, gz: nil),
        ])
        XCTAssertEqual(r.accepted + r.rejected, 4)
        XCTAssertGreaterThanOrEqual(r.rejected, 3)
        XCTAssertEqual(try sdk.pushGps(fixes: [GpsFix(timestamp: 3, latDeg: 1000, lonDeg: .nan, speedMps: -5, bearingDeg: nil, accuracyM: nil)]).rejected, 1)
        XCTAssertThrowsError(try sdk.pushImuPacked(data: Data(count: 57)))
        XCTAssertThrowsError(try sdk.setTiles(tiles: [Data([1, 2, 3])]))
        XCTAssertThrowsError(try Safelane(config: config("/proc/definitely/not/writable/outbox.db"))) { error in
            guard case SafelaneError.Storage = error else { return XCTFail("\(error)") }
        }
        _ = try sdk.stopTrip()
    }
}
