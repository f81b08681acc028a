#!/usr/bin/env python3
"""Per-stage delays of browser -> talk record, from a trace written by the
tests with trace.patch applied (see run.sh). For each transmission (press) of
the page: per packet, from the end of its 20 ms frame in the page's capture
worklet to: the page's main thread getting it (post), the WebCodecs encoder's
output (enc), the relay reading the datagram (net), talk record reading it
(relay->recv), and the place its first sample is written in the recording
(play); and each sound onset's mouth-to-ear (including Opus's 6.5 ms
look-ahead). Times are wall clock; the page's capture time is its audio
clock mapped to the wall clock by the smallest (arrival - frame end) seen.

Usage: analyse.py TRACE [L|B]   (L: the adaptive recorder, B: --buffer 200ms)
"""
import json, statistics, sys

fn = sys.argv[1]
who = sys.argv[2] if len(sys.argv) > 2 else 'L'
page = None; relay = {}; recv = {}; play = {}; onsets = []
for line in open(fn):
    if line.startswith('PAGE '):
        page = json.loads(line[5:]); continue
    if line.startswith('ONSETS '):
        onsets = [float(x) for x in line[8:].strip(' []\n').split()]; continue
    parts = line.split()
    if len(parts) < 3 or parts[0] not in ('R', 'L', 'B'):
        continue
    tag, t, kind = parts[0], int(parts[1]), parts[2]
    kv = dict(p.split('=', 1) for p in parts[3:] if '=' in p)
    if tag == 'R' and kind == 'relay':
        relay.setdefault(int(kv['seq']), t)
    if tag != who:
        continue
    if kind == 'recv':
        recv.setdefault(int(kv['seq']), int(kv['arr']))
    elif kind == 'dec' and kv['act'] == 'play':
        play.setdefault(int(kv['seq']), int(kv['now']) + int(kv['ahead']) * 1e9 / 48000)
if page is None:
    sys.exit('no PAGE line in the trace: did the test run to its end?')
capOff = page['capOff']
txs = []; cur = None
for e in page['trace']:
    if e['k'] == 'press':
        cur = {'press': e['w'], 'caps': [], 'outs': [], 'skips': [], 'floor': None, 'enc': None}; txs.append(cur)
    elif cur is None:
        continue
    elif e['k'] == 'encoder': cur['enc'] = e['w']
    elif e['k'] == 'floor' and cur['floor'] is None: cur['floor'] = e['w']
    elif e['k'] == 'cap': cur['caps'].append(e)
    elif e['k'] == 'out': cur['outs'].append(e)
    elif e['k'] == 'skip': cur['skips'].append(e)
ms = lambda ns: ns / 1e6
seq0 = 0
for i, tx in enumerate(txs):
    if not tx['outs']:
        continue
    caps = {e['ts']: e for e in tx['caps']}
    rows = []
    for k, o in enumerate(tx['outs']):
        c = caps.get(o['ts']) or min(tx['caps'], key=lambda e: abs(e['ts'] - o['ts']))
        capEnd = c['end'] * 1000 + capOff; s = seq0 + k
        r, a, p = relay.get(s), recv.get(s), play.get(s)
        rows.append((s, capEnd, c['w'], o['w'], ms(r) if r else None, ms(a) if a else None, ms(p) if p else None))
    print("=== press %d: packets %d..%d; press -> encoder made %.0f ms, -> floor granted %.0f ms, -> first frame sent ends %.0f ms" % (
        i, seq0, seq0 + len(rows) - 1, (tx['enc'] or 0) - tx['press'], (tx['floor'] or 0) - tx['press'], rows[0][1] - tx['press']))
    f = lambda x: '%d' % round(x) if x is not None else '-'
    if tx['skips']:
        print(" quiet frames left out at the start (late by, ms):", ' '.join(f(e['age']) for e in tx['skips']))
    n = min(30, len(rows))
    print(" first %d packets, ms:" % n)
    print("  post  ", ' '.join(f(cw - ce) for s, ce, cw, ow, r, a, p in rows[:n]))
    print("  enc   ", ' '.join(f(ow - cw) for s, ce, cw, ow, r, a, p in rows[:n]))
    print("  net   ", ' '.join(f(r - ow) if r else '-' for s, ce, cw, ow, r, a, p in rows[:n]))
    print("  ->recv", ' '.join(f(a - r) if a and r else '-' for s, ce, cw, ow, r, a, p in rows[:n]))
    tr = [a - ce for s, ce, cw, ow, r, a, p in rows if a]
    base = min(tr)
    print("  capture end -> recv, over its minimum %.1f:" % base, ' '.join(f(a - ce - base) if a else '-' for s, ce, cw, ow, r, a, p in rows[:n]))
    pl = [(s, p - ce) for s, ce, cw, ow, r, a, p in rows if p]
    print("  capture end -> play (- = dropped or late):", ' '.join(f(p - ce) if p else '-' for s, ce, cw, ow, r, a, p in rows[:n]))
    if pl:
        print("  capture end -> play: median %.1f over the press, %.1f over its last 50 packets" % (
            statistics.median([d for s, d in pl]), statistics.median([d for s, d in pl[-50:]])))
    out = []
    for c0 in onsets:
        for s, ce, cw, ow, r, a, p in rows:
            if ce - 20 <= c0 < ce and p:
                out.append('packet %d: %.0f' % (s - seq0, p + (c0 - (ce - 20)) - c0 + 6.5))
    print("  onsets' mouth-to-ear, ms:", ', '.join(out))
    seq0 += len(rows) + 1  # the end datagram
