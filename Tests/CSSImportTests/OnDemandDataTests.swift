import CSSCore
import Foundation
import XCTest
@testable import CSSImport
#if canImport(Glibc)
import Glibc
#endif

/// Data read from the `.npy` on demand (issue 10 §5): what the backend holds is the same bound
/// for N and 10 × N samples, the numbers are those of the data held in memory bit for bit, and a
/// file that changes under a running session gives a one-line error naming it, never a crash.
final class OnDemandDataTests: XCTestCase {
    let config = ConversionConfig(T: 6, beta: 1.5, silent: 1)

    func network() throws -> Network {
        let m = try LoadedModel.load(path: Paths.samples.appendingPathComponent("digits-cnn").path)
        return m.network
    }

    /// Seeded values like normalised images (a quarter of them zero, as after a ReLU'd scan).
    func values(_ n: Int, seed: UInt64) -> [Float] {
        var s = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        return (0..<n).map { i in
            s = s &* 6364136223846793005 &+ 1442695040888963407
            let v = Float(Int64(bitPattern: s >> 11) % 4001 - 2000) / 1000
            return i % 4 == 3 ? 0 : v
        }
    }

    /// Writes `.npy` bytes of `dtype` (C order) for `values`.
    func write(_ url: URL, shape: [Int], values: [Float], dtype: NumPyFile.DType = .float32) throws {
        var out = [UInt8]()
        NumPyFile.appendHeader(&out, descr: dtype.rawValue, shape: shape)
        for v in values {
            switch dtype {
            case .float32: withUnsafeBytes(of: v.bitPattern.littleEndian) { out.append(contentsOf: $0) }
            case .float64: withUnsafeBytes(of: Double(v).bitPattern.littleEndian) { out.append(contentsOf: $0) }
            case .int64: withUnsafeBytes(of: Int64(v.rounded()).littleEndian) { out.append(contentsOf: $0) }
            case .int32: withUnsafeBytes(of: Int32(v.rounded()).littleEndian) { out.append(contentsOf: $0) }
            case .uint8: out.append(UInt8(abs(v * 100).rounded()))
            }
        }
        try Data(out).write(to: url)
    }

    func dataFile(_ dir: URL, _ name: String, count: Int, shape: [Int], seed: UInt64,
                  dtype: NumPyFile.DType = .float32) throws -> String {
        let url = dir.appendingPathComponent(name)
        try write(url, shape: [count] + shape, values: values(count * shape.reduce(1, *), seed: seed), dtype: dtype)
        return url.path
    }

    /// Every dtype the reader supports: the on-demand set has the values of the whole file read
    /// at once, and calibration, the data-set report and the focused trace are the same bit for
    /// bit (batches of 4 over 10 samples, so a partial batch too).
    func testOnDemandIsBitIdenticalToInMemory() throws {
        let net = try network()
        let dir = Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        var ev = Evaluator(network: net)
        ev.batchSize = 4
        for dtype in NumPyFile.DType.allCases {
            let path = try dataFile(dir, "data-\(dtype).npy", count: 10, shape: net.inputShape, seed: 7, dtype: dtype)
            let onDemand = try DatasetLoader.load(data: path, labels: nil, inputShape: net.inputShape)
            XCTAssertTrue(onDemand.isOnDemand)
            let (_, whole) = try NumPyFile.readFloats(path: path)
            let held = SampleSet(inputs: whole, count: 10, sampleShape: net.inputShape)
            XCTAssertFalse(held.isOnDemand)
            XCTAssertEqual(try onDemand.allInputs().map(\.bitPattern), whole.map(\.bitPattern), "\(dtype)")
            XCTAssertEqual(Array(try onDemand.samples(3..<7)), Array(try held.samples(3..<7)), "\(dtype)")

            let p1 = try ev.calibrationPercentiles(onDemand, percentile: config.percentile)
            let p2 = try ev.calibrationPercentiles(held, percentile: config.percentile)
            XCTAssertEqual(p1, p2, "\(dtype)")
            let theta = p1.amplitudes(config)
            let r1 = try ev.evaluate(onDemand, amplitudes: theta, config: config)
            let r2 = try ev.evaluate(held, amplitudes: theta, config: config)
            XCTAssertEqual(r1, r2, "\(dtype)")
            let t1 = try ev.trace(onDemand, sample: 9, amplitudes: theta, config: config)
            let t2 = try ev.trace(held, sample: 9, amplitudes: theta, config: config)
            XCTAssertEqual(t1.annOutput, t2.annOutput, "\(dtype)")
            XCTAssertEqual(t1.outputSlots, t2.outputSlots, "\(dtype)")
            XCTAssertEqual(t1.encoder.spikes, t2.encoder.spikes, "\(dtype)")
            XCTAssertEqual(t1.encoder.inputs.map(\.bitPattern), t2.encoder.inputs.map(\.bitPattern), "\(dtype)")
            XCTAssertEqual(t1.layers.map(\.input), t2.layers.map(\.input), "\(dtype)")
            XCTAssertEqual(t1.layers.map(\.membrane), t2.layers.map(\.membrane), "\(dtype)")
            XCTAssertEqual(t1.layers.map(\.margins), t2.layers.map(\.margins), "\(dtype)")
            XCTAssertEqual(t1.layers.map(\.spikes), t2.layers.map(\.spikes))
            let prefix = onDemand.prefix(5)
            XCTAssertTrue(prefix.isOnDemand)
            XCTAssertEqual(try prefix.allInputs(), Array(whole.prefix(5 * onDemand.sampleSize)))
        }
    }

    /// A NaN in the file is still refused at load (the validating pass reads it a chunk at a time).
    func testNonFiniteValuesAreRefusedAtLoad() throws {
        let dir = Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("nan.npy")
        var v = values(3 * 64, seed: 2)
        v[100] = .nan
        try write(url, shape: [3, 1, 8, 8], values: v)
        XCTAssertThrowsError(try DatasetLoader.load(data: url.path, labels: nil, inputShape: [1, 8, 8])) { e in
            XCTAssertEqual("\(e)", "\(url.path): contains NaN or infinity at flat index 100 (shape [3, 1, 8, 8]); clean the data before loading it")
        }
    }

    /// The plan's data term and the bytes the backend holds through a session of θ changes,
    /// sample changes and reports are the same for N and 10 × N samples read on demand (the
    /// labels aside, 8 bytes a sample); held in memory, the data term grows with N.
    func testHeldBytesAreTheSameBoundForNAndTenN() async throws {
        let net = try network()
        let dir = Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let size = net.inputShape.reduce(1, *)
        let needs = MemoryNeeds(network: net, config: config)
        let n = 24
        var bounds: [Int] = [], fixed: [Int] = [], peaks: [Int] = []
        for count in [n, 10 * n] {
            let path = try dataFile(dir, "data-\(count).npy", count: count, shape: net.inputShape, seed: 3)
            let labelsURL = dir.appendingPathComponent("labels-\(count).npy")
            try write(labelsURL, shape: [count], values: (0..<count).map { Float($0 % 10) })
            let data = try DatasetLoader.load(data: path, labels: labelsURL.path, inputShape: net.inputShape, classes: 10)
            let calib = data.prefix(8)
            XCTAssertLessThanOrEqual(data.residentBytes, 4096 + 8 * count, "a header, a descriptor and the labels")
            let inMemory = SampleSet(inputs: try data.allInputs(), count: count, sampleShape: net.inputShape)
            XCTAssertEqual(inMemory.residentBytes, 4 * count * size)

            let ev = Evaluator(network: net)
            let p = try ev.calibrationPercentiles(calib, percentile: config.percentile)
            let memory = MemoryBudget(bytes: 400 << 20)
            let backend = try LocalBackend(network: net, data: data, calib: calib,
                                           start: TuningState(config: config, amplitudes: p.amplitudes(config)),
                                           percentiles: p, memory: memory)
            let plan = try await backend.plan()
            XCTAssertLessThanOrEqual(plan.total, memory.bytes)
            fixed.append(plan.fixed - 8 * count - 8 * 8)
            let allowed = plan.dataCache + needs.trace + needs.focusedANN + (plan.traceCache ? needs.traceCache : 0)
            // The labels' bytes and the two jobs' report statistics (which grow with the samples,
            // to a bound) come out of the data cache's share.
            bounds.append(allowed + 8 * count + MemoryPlan.datasetJobs * needs.reportStatistics(samples: count))
            var peak = 0
            func check(_ what: String) async {
                let held = await backend.heldBytes() + data.residentBytes + calib.residentBytes - 8 * (count + 8)
                peak = max(peak, held)
                XCTAssertLessThanOrEqual(held, allowed + 8192, "\(count) samples, after \(what)")
            }
            _ = try await backend.trace(sample: 0); await check("the first trace")
            _ = try await backend.report(progress: { _ in }); await check("the first report")
            for (i, layer) in [1, 0, -1].enumerated() {
                _ = try await backend.apply(.scaleTheta(layer: layer, factor: 1.05), progress: nil)
                _ = try await backend.trace(sample: count - 1 - i); await check("θ change \(i)")
                _ = try await backend.report(progress: { _ in }); await check("report \(i)")
            }
            _ = try await backend.apply(.adjust(layers: nil, rounds: 1), progress: nil); await check("A.3")
            peaks.append(peak)
        }
        XCTAssertEqual(fixed[0], fixed[1], "the data term does not grow with the data set")
        XCTAssertEqual(bounds[0], bounds[1], "the same bound for \(n) and \(10 * n) samples")
        XCTAssertLessThanOrEqual(peaks[1], bounds[1] + 8192)
    }

    /// Counted allocations: loading a data set of 20 000 samples (5 MiB of floats) leaves the
    /// heap within 256 KiB of where it was; the values are read when a batch asks for them.
    func testLoadingDoesNotAllocateTheDataSet() throws {
        let dir = Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try dataFile(dir, "big.npy", count: 20_000, shape: [1, 8, 8], seed: 5)
        guard ComputeMemory.heapBytesInUse() != nil else { throw XCTSkip("the C library does not count its heap") }
        func heap() -> Int { ComputeMemory.heapBytesInUse()! }
        var sets: [SampleSet] = []
        let before = heap()
        sets.append(try DatasetLoader.load(data: path, labels: nil, inputShape: [1, 8, 8]))
        let grown = heap() - before
        XCTAssertLessThan(grown, 256 << 10, "loading held \(grown) bytes")
        let held = SampleSet(inputs: try sets[0].allInputs(), count: 20_000, sampleShape: [1, 8, 8])
        XCTAssertGreaterThan(heap() - before, 4 << 20, "the counter sees a data set held in memory")
        sets.append(held)
    }

    /// The file truncated under a session: the next report and trace throw one line naming the
    /// file (no crash), the job's slot is given back; a deleted file keeps serving the samples
    /// (the descriptor stays open) with the same numbers.
    func testChangedFileDuringEvaluationIsAnError() async throws {
        let net = try network()
        let dir = Paths.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try dataFile(dir, "data.npy", count: 20, shape: net.inputShape, seed: 11)
        let data = try DatasetLoader.load(data: path, labels: nil, inputShape: net.inputShape)
        let ev = Evaluator(network: net, batchSize: 4)
        let p = try ev.calibrationPercentiles(data, percentile: config.percentile)
        let theta = p.amplitudes(config)
        let before = try ev.evaluate(data, amplitudes: theta, config: config)

        // Deleted: the open descriptor still reads what was loaded.
        let copy = dir.appendingPathComponent("copy.npy").path
        try FileManager.default.copyItem(atPath: path, toPath: copy)
        let doomed = try DatasetLoader.load(data: copy, labels: nil, inputShape: net.inputShape)
        try FileManager.default.removeItem(atPath: copy)
        XCTAssertEqual(try ev.evaluate(doomed, amplitudes: theta, config: config), before)

        let backend = try LocalBackend(network: net, data: data, calib: data.prefix(4),
                                       start: TuningState(config: config, amplitudes: theta), percentiles: p)
        _ = try await backend.trace(sample: 3)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: 2000)
        try handle.close()
        func checkError(_ e: Error, _ what: String) {
            let text = "\(e)"
            XCTAssertTrue(text.hasPrefix(path + ": changed since it was loaded"), "\(what): \(text)")
            XCTAssertFalse(text.contains("\n"), what)
        }
        do { _ = try ev.evaluate(data, amplitudes: theta, config: config); XCTFail("evaluate") } catch { checkError(error, "evaluate") }
        do { _ = try ev.trace(data, sample: 0, amplitudes: theta, config: config); XCTFail("trace") } catch { checkError(error, "trace") }
        do { _ = try await backend.report(progress: { _ in }); XCTFail("report") } catch { checkError(error, "report") }
        do { _ = try await backend.trace(sample: 5); XCTFail("backend trace") } catch { checkError(error, "backend trace") }
        let running = await backend.runningDatasetJobs
        XCTAssertEqual(running, 0, "the failed report gave its slot back")

        // A short read (the size check passed, the bytes are gone) is an error too.
        let fd = open(path, O_RDONLY)
        defer { close(fd) }
        XCTAssertThrowsError(try NumPySampleFile.pread(fd, count: 4096, at: 0, path: path)) { e in
            XCTAssertTrue("\(e)".hasPrefix(path + ": truncated"), "\(e)")
        }
        // Loading it now names the truncation at once.
        XCTAssertThrowsError(try DatasetLoader.load(data: path, labels: nil, inputShape: net.inputShape)) { e in
            XCTAssertTrue("\(e)".contains("truncated"), "\(e)")
        }
    }
}
