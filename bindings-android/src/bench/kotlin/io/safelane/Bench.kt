// Cost of the binding layer: a 600 s simulated trip (100 Hz) pushed from
// Kotlin in batches of 100, as records (pushImu) and as one packed byte array
// per batch (pushImuPacked); the time per sample compares with the Rust benchmark
// `cargo bench -p safelane-sdk --bench push` on the same trip.
// Run: bindings/kotlin-bench.sh
package io.safelane

import io.safelane.ffi.Config
import io.safelane.ffi.ImuSample
import io.safelane.ffi.Platform
import io.safelane.ffi.Safelane
import io.safelane.ffi.Vehicle
import java.io.File

fun main() {
    val trip = File(System.getProperty("safelane.trip") ?: error("-Dsafelane.trip missing"))
    val imu = File(trip, "imu.csv").readLines().drop(1).map { line ->
        val c = line.split(',')
        fun opt(i: Int) = c.getOrNull(i)?.takeIf { it.isNotEmpty() }?.toDouble()
        ImuSample(c[0].toDouble() * 1e9, c[1].toDouble(), c[2].toDouble(), c[3].toDouble(), opt(4), opt(5), opt(6))
    }
    val batches = imu.chunked(100)
    val packed = batches.map { b ->
        val buf = java.nio.ByteBuffer.allocate(b.size * 56).order(java.nio.ByteOrder.LITTLE_ENDIAN)
        for (s in b) {
            for (v in listOf(s.timestamp, s.ax, s.ay, s.az, s.gx ?: Double.NaN, s.gy ?: Double.NaN, s.gz ?: Double.NaN)) buf.putDouble(v)
        }
        buf.array()
    }
    fun run(label: String, push: (Safelane, Int) -> Unit) {
        val times = ArrayList<Double>()
        repeat(12) { round ->
            val sdk = Safelane(Config(Vehicle.CAR, Platform.ANDROID, null, 100_000uL, false, 0))
            sdk.startTrip(1_763_800_000_000L, imu.first().timestamp / 1e9)
            val t0 = System.nanoTime()
            for (i in batches.indices) push(sdk, i)
            val dt = (System.nanoTime() - t0).toDouble()
            sdk.stopTrip()
            sdk.close()
            if (round >= 2) times.add(dt / imu.size) // the first rounds warm the JIT up
        }
        times.sort()
        println("kotlin $label: median %.0f ns per sample (min %.0f, max %.0f) over %d samples x %d rounds"
            .format(times[times.size / 2], times.first(), times.last(), imu.size, times.size))
    }
    run("empty calls (pushImuPacked of nothing), per 100 samples' call") { sdk, _ -> sdk.pushImuPacked(ByteArray(0)) }
    run("pushImu (records, batches of 100)") { sdk, i -> sdk.pushImu(batches[i]) }
    run("pushImuPacked (one byte array per batch of 100)") { sdk, i -> sdk.pushImuPacked(packed[i]) }
    val packed1000 = packed.chunked(10).map { group -> group.fold(ByteArray(0)) { acc, b -> acc + b } }
    run("pushImuPacked (one byte array per batch of 1000)") { sdk, i -> if (i < packed1000.size) sdk.pushImuPacked(packed1000[i]) }
}
