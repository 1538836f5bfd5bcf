import ArgumentParser
import CSSCore

/// The energy figures that price operation counts (docs/numerics.md §13), shared by the
/// commands that report energy.
struct EnergyOptions: ParsableArguments {
    @Option(name: .customLong("e-mac"), parsing: .unconditional,
            help: "Energy per ANN multiply-accumulate in pJ (default 4.6, 45 nm).") var eMAC: Double?
    @Option(name: .customLong("e-ac"), parsing: .unconditional,
            help: "Energy per SNN synaptic operation in pJ (default 0.9, 45 nm).") var eAC: Double?

    func validate() throws {
        for (flag, v) in [("--e-mac", eMAC), ("--e-ac", eAC)] {
            if let v, !(v > 0 && v.isFinite) { throw Usage.error(flag, plainNumber(v), "must be a positive number of pJ") }
        }
    }

    var costs: EnergyCosts {
        EnergyCosts(mac: eMAC ?? EnergyCosts.standard.mac, accumulate: eAC ?? EnergyCosts.standard.accumulate)
    }
}
