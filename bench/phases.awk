#!/usr/bin/awk -f
# Where a change's time goes, from a CSSDBG_EVENT_LOG file: one line per key that led to a new
# trace on screen, with the milliseconds of each phase, then the medians and maxima.
#
#   awk -f bench/phases.awk .build/stall-hunt/events-seed7.log
#
# Phases: host = host-request → host-replied (the host chain: actor hops, θ change, session save);
# pickup = host-replied → trace-request (the loop takes the reply and asks for the trace);
# compute = trace-request → trace-computed (waiting for the actor, then the simulation);
# summary = trace-computed → trace-summarised; arrival = trace-summarised → trace-arrived (the
# loop takes it); frame = trace-arrived → the next frame; total = key → that frame. A key whose
# trace was superseded by the next key's is not listed. The medians of host and pickup are over
# the changes that went through the host (θ keys), the others over all.
function flush() {
    if (k != "" && fr != "") {
        n++
        host[n] = (hq != "" && hr != "") ? hr - hq : 0
        pick[n] = (hr != "") ? tr - hr : 0
        if (hr != "") { hn++; hhost[hn] = host[n]; hpick[hn] = pick[n] }
        comp[n] = tc - tr; summ[n] = ts - tc; arr[n] = ta - ts; frm[n] = fr - ta; tot[n] = fr - k
        printf "%-14s host %6.0f  pickup %5.0f  compute %6.0f  summary %5.0f  arrival %5.0f  frame %5.0f  total %6.0f\n",
            what, host[n], pick[n], comp[n], summ[n], arr[n], frm[n], tot[n]
    }
    k = hq = hr = tr = tc = ts = ta = fr = ""
}
function median(a, m,   i, j, t, b) {
    for (i = 1; i <= m; i++) b[i] = a[i]
    for (i = 2; i <= m; i++) { t = b[i]; for (j = i - 1; j >= 1 && b[j] > t; j--) b[j + 1] = b[j]; b[j + 1] = t }
    return m ? b[int((m + 1) / 2)] : 0
}
function maximum(a, m,   i, x) { x = 0; for (i = 1; i <= m; i++) if (a[i] > x) x = a[i]; return x }
$2 == "key"              { flush(); k = $1; what = $3; next }
$2 == "host-request"     { if (hq == "") hq = $1; what = $3; next }
$2 == "host-replied"     { hr = $1; next }
$2 == "trace-request"    { tr = $1; tc = ts = ta = fr = ""; next }
$2 == "trace-computed"   { tc = $1; next }
$2 == "trace-summarised" { ts = $1; next }
$2 == "trace-arrived"    { if (tr != "" && ts != "") ta = $1; next }
$2 == "frame"            { if (ta != "" && fr == "") fr = $1; next }
END {
    flush()
    if (!n) { print "no key led to a new trace on screen"; exit }
    printf "%-14s host %6.0f  pickup %5.0f  compute %6.0f  summary %5.0f  arrival %5.0f  frame %5.0f  total %6.0f  (%d changes)\n",
        "median", median(hhost, hn), median(hpick, hn), median(comp, n), median(summ, n), median(arr, n), median(frm, n), median(tot, n), n
    printf "%-14s host %6.0f  pickup %5.0f  compute %6.0f  summary %5.0f  arrival %5.0f  frame %5.0f  total %6.0f\n",
        "max", maximum(host, n), maximum(pick, n), maximum(comp, n), maximum(summ, n), maximum(arr, n), maximum(frm, n), maximum(tot, n)
}
