// Kotlin tests of the bindings on the host JVM, against the host build of
// the library (run by bindings/kotlin-tests.sh): record a simulated trip with
// alerts, sync through a transport that fails, duplicates and delays
// requests, restart on the same database, and error cases.
package io.safelane

import io.safelane.ffi.Alert
import io.safelane.ffi.Config
import io.safelane.ffi.GpsFix
import io.safelane.ffi.HttpRequest
import io.safelane.ffi.HttpResponse
import io.safelane.ffi.ImuSample
import io.safelane.ffi.Platform
import io.safelane.ffi.Safelane
import io.safelane.ffi.SafelaneException
import io.safelane.ffi.SyncSettings
import io.safelane.ffi.TransportException
import io.safelane.ffi.Vehicle
import io.safelane.ffi.defaultSyncSettings
import java.io.File
import java.util.Collections
import kotlin.random.Random

private const val T0_UNIX_MS = 1_763_800_000_000L

private fun check(condition: Boolean, message: () -> String) {
    if (!condition) throw AssertionError(message())
}

private val tripDir = File(System.getProperty("safelane.trip") ?: error("-Dsafelane.trip missing"))
private val expectedEvents = (System.getProperty("safelane.expectedEvents") ?: error("-Dsafelane.expectedEvents missing")).toInt()
private val work = File(System.getProperty("safelane.work") ?: error("-Dsafelane.work missing"))

private fun config(db: File?, auto: Boolean = false) =
    Config(Vehicle.CAR, Platform.ANDROID, db?.path, 100_000uL, auto, 0)

/** The trip's IMU rows as Android samples (ns since boot). */
private fun readImu(): List<ImuSample> =
    File(tripDir, "imu.csv").readLines().drop(1).map { line ->
        val c = line.split(',')
        fun opt(i: Int) = c.getOrNull(i)?.takeIf { it.isNotEmpty() }?.toDouble()
        ImuSample(c[0].toDouble() * 1e9, c[1].toDouble(), c[2].toDouble(), c[3].toDouble(), opt(4), opt(5), opt(6))
    }

private fun readGps(): List<GpsFix> =
    File(tripDir, "gps.csv").readLines().drop(1).map { line ->
        val c = line.split(',')
        fun opt(i: Int) = c.getOrNull(i)?.takeIf { it.isNotEmpty() }?.toDouble()
        GpsFix(c[0].toDouble() * 1e9, c[1].toDouble(), c[2].toDouble(), opt(3), opt(4), opt(5))
    }

/** Pushes a whole trip as a phone does: IMU in batches of 100, fixes in between. */
private fun pushTrip(sdk: Safelane, imu: List<ImuSample>, gps: List<GpsFix>) {
    var gi = 0
    for (batch in imu.chunked(100)) {
        sdk.pushImu(batch)
        val end = batch.last().timestamp
        val from = gi
        while (gi < gps.size && gps[gi].timestamp <= end) gi++
        if (gi > from) sdk.pushGps(gps.subList(from, gi))
    }
    if (gi < gps.size) sdk.pushGps(gps.subList(gi, gps.size))
}

/** The server's contract in memory: idempotent by event id, per-event status. */
private class FakeServer {
    val stored = Collections.synchronizedMap(HashMap<String, Int>())
    var requests = 0

    fun handle(request: HttpRequest): HttpResponse {
        synchronized(this) { requests++ }
        val auth = request.headers.chunked(2).firstOrNull { it[0] == "authorization" }?.get(1)
        if (auth != "Bearer dev1.s3cret") return HttpResponse(401u.toUShort(), null, ByteArray(0))
        val body = String(request.body)
        val events = Regex("\"id\":\"([0-9a-f]{32}-[0-9]+)\"").findAll(body).map { it.groupValues[1] }.toList()
        val trips = Regex("\"id\":\"([0-9a-f]{32})\"").findAll(body).map { it.groupValues[1] }.toList()
        val statuses = events.joinToString(",") { id ->
            val status = synchronized(stored) {
                if (stored.containsKey(id)) "duplicate" else { stored[id] = 1; "stored" }
            }
            "{\"id\":\"$id\",\"status\":\"$status\"}"
        }
        val tripStatuses = trips.joinToString(",") { "{\"id\":\"$it\",\"status\":\"stored\"}" }
        val reply = "{\"events\":[$statuses],\"trips\":[$tripStatuses]}"
        return HttpResponse(200u.toUShort(), null, reply.toByteArray())
    }
}

private fun settings(): SyncSettings =
    defaultSyncSettings("http://fleet.invalid", "dev1", "s3cret").copy(baseBackoffMs = 1uL, maxBackoffMs = 5uL, batchSize = 7u)

private fun recordsASimulatedTripWithAlerts() {
    val sdk = Safelane(config(null))
    val alerts = Collections.synchronizedList(ArrayList<Alert>())
    sdk.setListener(alertListener { alerts.add(it) })
    val imu = readImu()
    val tripId = sdk.startTrip(T0_UNIX_MS, imu.first().timestamp / 1e9)
    pushTrip(sdk, imu, readGps())
    check(sdk.orientation().state == "locked") { "orientation ${sdk.orientation()}" }
    val summary = sdk.stopTrip()
    check(alerts.size == expectedEvents) { "${alerts.size} alerts, the core finds $expectedEvents" }
    check(alerts.all { it.tripId == tripId && it.startUnixMs >= T0_UNIX_MS }) { "alert fields" }
    check(summary.events.sum().toInt() == expectedEvents) { "summary ${summary.events}" }
    check(summary.distanceM > 1000.0) { "distance ${summary.distanceM}" }
    check(sdk.outboxCounts().pendingEvents == expectedEvents.toULong()) { "outbox ${sdk.outboxCounts()}" }
}

private fun theBatcherPushesPackedBatches() {
    val sdk = Safelane(config(null))
    val imu = readImu().take(1000)
    sdk.startTrip(T0_UNIX_MS, imu.first().timestamp / 1e9)
    val batcher = ImuBatcher(sdk, 128)
    var accepted = 0u
    for (s in imu) {
        batcher.add(s.timestamp.toLong(), s.ax.toFloat(), s.ay.toFloat(), s.az.toFloat(), s.gx?.toFloat(), s.gy?.toFloat(), s.gz?.toFloat())
            ?.let { accepted += it.accepted }
    }
    batcher.flush()?.let { accepted += it.accepted }
    check(accepted >= 990u) { "accepted $accepted of 1000" }
    sdk.stopTrip()
}

private fun syncSurvivesFailuresDuplicatesDelaysAndRestarts() {
    val db = File(work, "outbox-sync.db")
    db.delete()
    val server = FakeServer()
    val random = Random(42)
    var failed = 0
    var duplicated = 0
    val flaky = httpTransport { request ->
        when (random.nextInt(10)) {
            0, 1 -> { failed++; throw TransportException.Network("connection reset") }
            2 -> { server.handle(request); failed++; throw TransportException.Network("timed out after delivery") }
            3 -> { duplicated++; server.handle(request); server.handle(request) }
            4 -> HttpResponse(429u.toUShort(), "0", ByteArray(0))
            5 -> { Thread.sleep(20); server.handle(request) }
            6 -> throw IllegalStateException("a bug in the app's transport")
            else -> server.handle(request)
        }
    }
    val recorded = HashSet<String>()
    var sdk = Safelane(config(db))
    sdk.setListener(alertListener { recorded.add(it.id) })
    val imu = readImu()
    val gps = readGps()
    sdk.startTrip(T0_UNIX_MS, imu.first().timestamp / 1e9)
    pushTrip(sdk, imu, gps)
    sdk.stopTrip()
    // The app is killed and restarted: the same database, nothing lost.
    sdk.close()
    sdk = Safelane(config(db))
    check(sdk.outboxCounts().pendingEvents == recorded.size.toULong()) { "after restart ${sdk.outboxCounts()}" }
    var rounds = 0
    while (sdk.outboxCounts().pendingEvents > 0uL && rounds < 100) {
        rounds++
        try {
            sdk.sync(flaky, settings().copy(batchSize = 1u))
        } catch (e: SafelaneException.Sync) {
            check(e.retryable) { "unexpected non-retryable $e" }
        }
        if (rounds % 3 == 0) { sdk.close(); sdk = Safelane(config(db)) }
    }
    check(sdk.outboxCounts().pendingEvents == 0uL) { "still queued after $rounds rounds" }
    check(server.stored.keys == recorded) { "server has ${server.stored.size}, recorded ${recorded.size}" }
    check(server.stored.values.all { it == 1 }) { "stored twice" }
    check(failed > 0 && duplicated > 0) { "faults injected: $failed failures, $duplicated duplicates" }
    sdk.close()
}

private fun wrongCredentialsAreNotRetried() {
    val sdk = Safelane(config(null))
    val imu = readImu()
    sdk.startTrip(T0_UNIX_MS, imu.first().timestamp / 1e9)
    pushTrip(sdk, imu.take(20_000), readGps().take(200))
    sdk.stopTrip()
    val server = FakeServer()
    try {
        sdk.sync(httpTransport { server.handle(it) }, settings().copy(deviceSecret = "wrong"))
        throw AssertionError("sync with wrong credentials succeeded")
    } catch (e: SafelaneException.Sync) {
        check(!e.retryable) { "credentials errors are final" }
        check(!e.message.orEmpty().contains("wrong")) { "the secret leaked into the message: ${e.message}" }
    }
    check(server.requests == 1) { "retried ${server.requests} times" }
}

private fun errorsComeBackAsExceptionsNotCrashes() {
    try {
        Safelane(Config(Vehicle.CAR, Platform.IOS, null, 100uL, false, 100_000))
        throw AssertionError("accepted a 1,666 h UTC offset")
    } catch (e: SafelaneException.InvalidArgument) {
        check(e.reason.contains("utc_offset_min")) { e.reason }
    }
    val sdk = Safelane(config(null))
    try {
        sdk.pushImu(listOf(ImuSample(0.0, 0.0, 0.0, 9.8, null, null, null)))
        throw AssertionError("pushed without a trip")
    } catch (e: SafelaneException.InvalidState) {
        check(e.reason.contains("start_trip")) { e.reason }
    }
    sdk.startTrip(T0_UNIX_MS, 0.0)
    val garbage = listOf(
        ImuSample(Double.NaN, 0.0, 0.0, 9.8, null, null, null),
        ImuSample(1e9, Double.POSITIVE_INFINITY, 0.0, 9.8, null, null, null),
        ImuSample(2e9, 1e300, 0.0, 9.8, Double.NaN, 1.0, 1.0),
        ImuSample(-1e18, 0.0, 0.0, 9.8, null, null, null),
    )
    val r = sdk.pushImu(garbage)
    check(r.accepted + r.rejected == 4u && r.rejected >= 3u) { "$r" }
    val g = sdk.pushGps(listOf(GpsFix(3e9, 1000.0, Double.NaN, -5.0, null, null)))
    check(g.rejected == 1u) { "$g" }
    try {
        sdk.pushImuPacked(ByteArray(57))
        throw AssertionError("accepted a ragged packed batch")
    } catch (e: SafelaneException.InvalidArgument) {
        check(e.reason.contains("multiple of 56")) { e.reason }
    }
    try {
        sdk.setTiles(listOf(byteArrayOf(1, 2, 3)))
        throw AssertionError("accepted a garbage tile")
    } catch (e: SafelaneException.InvalidArgument) {
        check(e.reason.contains("tiles[0]")) { e.reason }
    }
    try {
        Safelane(config(File("/proc/definitely/not/writable/outbox.db")))
        throw AssertionError("opened an outbox in an impossible place")
    } catch (e: SafelaneException.Storage) {
        check(e.reason.contains("outbox")) { e.reason }
    }
    sdk.stopTrip()
}

private fun theReadmeSampleRuns() {
    val db = File(work, "readme.db")
    db.delete()
    val server = FakeServer()
    val imu = readImu().take(30_000)
    val gps = readGps().filter { it.timestamp <= imu.last().timestamp }
    val report = recordAndSync(db.path, imu, gps) { req ->
        // The sample's credentials are placeholders: answer as the server would for this device.
        server.handle(req.copy(headers = listOf("authorization", "Bearer dev1.s3cret")))
    }
    check(report.acknowledged == server.stored.size.toULong()) { "$report vs ${server.stored.size}" }
}

fun main() {
    work.mkdirs()
    val tests = listOf(
        "records a simulated trip with alerts" to ::recordsASimulatedTripWithAlerts,
        "the batcher pushes packed batches" to ::theBatcherPushesPackedBatches,
        "sync survives failures, duplicates, delays and restarts" to ::syncSurvivesFailuresDuplicatesDelaysAndRestarts,
        "wrong credentials are not retried" to ::wrongCredentialsAreNotRetried,
        "errors come back as exceptions, not crashes" to ::errorsComeBackAsExceptionsNotCrashes,
        "the README sample runs" to ::theReadmeSampleRuns,
    )
    var failed = 0
    for ((name, test) in tests) {
        try {
            test()
            println("kotlin test ok: $name")
        } catch (t: Throwable) {
            failed++
            println("kotlin test FAILED: $name: $t")
        }
    }
    println("Kotlin tests: ${tests.size - failed} passed, $failed failed")
    if (failed > 0) kotlin.system.exitProcess(1)
}
