"""Alternated A/B runs of `cssdbg bench` over --conv choices (A B A B ...), medians per model and
choice, the load average before each round, and with --profile the per-layer milliseconds of
every Winograd convolution under each choice (to choose F(2×2) or F(4×4) per map size).

    python3 bench/winograd_ab.py [--model vgg16 --model resnet18] [--conv winograd --conv winograd4]
                                 [--rounds 5] [--iters 3] [--threads 2] [--profile] [--cssdbg PATH]

Absolute figures on a shared machine drift; the alternation makes the drift hit every choice
alike. Plain Python 3 (no packages).
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys


def run(cssdbg, model, conv, a):
    cmd = [cssdbg, 'bench', '--model', model, '--conv', conv, '--batch', str(a.batch), '-T', str(a.T),
           '--silent', str(a.silent), '--threads', str(a.threads), '--iters', str(a.iters), '--json']
    if a.profile:
        cmd.append('--profile')
    # CPU seconds of the whole process (user + sys, set-up included): less sensitive to other
    # processes than wall time, since a descheduled thread accrues none.
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    p = subprocess.run(cmd, capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    out, err = p.stdout, p.stderr
    if p.returncode != 0:
        sys.exit(f'winograd_ab.py: {" ".join(cmd)} failed: {err.strip()}')
    doc = json.loads(out)
    doc['cpu_s'] = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    layers = {}
    for line in err.splitlines():  # the profile table (stderr with --json)
        if '(W' in line[29:40]:
            fields = line[54:].split()
            layers[line[:28].strip()] = (line[29:39].strip(), line[40:54].strip(), float(fields[0]))
    return doc, layers


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--model', action='append')
    ap.add_argument('--conv', action='append')
    ap.add_argument('--rounds', type=int, default=5)
    ap.add_argument('--iters', type=int, default=3)
    ap.add_argument('--batch', type=int, default=16)
    ap.add_argument('-T', type=int, default=10)
    ap.add_argument('--silent', type=int, default=1)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--profile', action='store_true')
    ap.add_argument('--cssdbg', default=os.environ.get('CSSDBG', '.build/release/cssdbg'))
    a = ap.parse_args()
    models = a.model or ['vgg16', 'resnet18']
    convs = a.conv or ['winograd', 'winograd4']
    snn = {(m, c): [] for m in models for c in convs}
    ann = {(m, c): [] for m in models for c in convs}
    cpu = {(m, c): [] for m in models for c in convs}
    layer_ms = {}
    loads = []
    for r in range(a.rounds):
        loads.append(os.getloadavg()[0])
        for m in models:
            for c in (convs if r % 2 == 0 else list(reversed(convs))):
                doc, layers = run(a.cssdbg, m, c, a)
                snn[(m, c)].append(doc['snn_samples_per_s'])
                ann[(m, c)].append(doc['ann_samples_per_s'])
                cpu[(m, c)].append(doc['cpu_s'])
                for node, (op, shape, ms) in layers.items():
                    layer_ms.setdefault((m, node, shape), {}).setdefault(c, []).append((op, ms))
        print(f'round {r + 1}/{a.rounds} done, load {loads[-1]:.2f}', file=sys.stderr)
    print(f'{a.rounds} alternated rounds, batch {a.batch}, T={a.T}, L={a.silent}, {a.threads} threads, '
          f'load average (1 min) {min(loads):.2f}–{max(loads):.2f}')
    base = convs[0]
    print('| model | conv | SNN samples/s | ANN samples/s | SNN vs ' + base + ' | ANN vs ' + base + ' | process CPU s |')
    print('|---|---|---:|---:|---:|---:|---:|')
    for m in models:
        for c in convs:
            s, n = statistics.median(snn[(m, c)]), statistics.median(ann[(m, c)])
            s0, n0 = statistics.median(snn[(m, base)]), statistics.median(ann[(m, base)])
            print(f'| {m} | {c} | {s:.2f} | {n:.2f} | {s / s0:.2f}× | {n / n0:.2f}× | {statistics.median(cpu[(m, c)]):.1f} |')
    if a.profile:
        print('\nSNN ms per batch of each Winograd convolution (median), per choice:')
        print('| model | node | output | ' + ' | '.join(f'{c}' for c in convs) + ' |')
        print('|---|---|---|' + '---:|' * len(convs))
        for (m, node, shape), per in layer_ms.items():
            cells = []
            for c in convs:
                if c in per:
                    op = per[c][0][0].split('(')[-1].rstrip(')')
                    cells.append(f'{statistics.median(ms for _, ms in per[c]):.2f} ({op})')
                else:
                    cells.append('')
            print(f'| {m} | {node} | {shape} | ' + ' | '.join(cells) + ' |')


if __name__ == '__main__':
    main()
