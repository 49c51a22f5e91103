#!/usr/bin/env python3
"""Records the hand-picked oracle cases (called by record.sh).

usage: record_edge.py <oracle.exe> <edge-inputs dir> <golden oracle dir>

Every tools/oracle/edge-inputs/<app>.<Type>.txt holds one input-form JSON object per line (blank lines and
lines starting with '#' are comments). Each input is written by the oracle's `serialize <app> <Type> json`
and `... xml`; the results go to <golden oracle dir>/<app>/<Type>.edge.jsonl as lines in the format of the
oracle's `random` command: {"input":{...},"json":"<exact text>","xml":"<exact text>"}, with "jsonError" /
"xmlError" holding the serializer's message where it throws (exit code 3). An input the oracle refuses
(exit code 2) stops the recording: the edge file is wrong.
"""
import concurrent.futures
import glob
import json
import os
import re
import subprocess
import sys

SURROGATE = re.compile('[\ud800-\udfff]')


def dumps(value):
    """Compact JSON with raw non-ASCII (ensure_ascii=False); lone surrogates, which UTF-8 cannot carry, as
    \\u escapes (they only occur inside string literals)."""
    text = json.dumps(value, ensure_ascii=False, separators=(',', ':'))
    return SURROGATE.sub(lambda m: '\\u%04x' % ord(m.group()), text)


def serialize(oracle, app, typ, fmt, line):
    p = subprocess.run(['mono', oracle, 'serialize', app, typ, fmt], input=line.encode('utf-8', 'surrogatepass'),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode == 0:
        # The oracle writes UTF-8 (invalid text never comes out: the encoders replace or throw).
        return fmt, p.stdout.decode('utf-8')
    err = p.stderr.decode('utf-8', 'replace').strip()
    if p.returncode == 3:
        prefix = 'serializer error: '
        msg = err.splitlines()[0] if err else ''
        if msg.startswith(prefix):
            msg = msg[len(prefix):]
        return fmt + 'Error', msg
    raise SystemExit('%s %s %s: oracle exit %d for input %s\n%s' % (app, typ, fmt, p.returncode, line, err))


def main():
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    oracle, edge_dir, out_dir = sys.argv[1:]
    wanted = set()
    jobs = []
    for path in sorted(glob.glob(os.path.join(edge_dir, '*.txt'))):
        app, typ = os.path.basename(path)[:-len('.txt')].split('.', 1)
        with open(path, encoding='utf-8') as f:
            lines = [l.rstrip('\r\n') for l in f]
        inputs = []
        for n, line in enumerate(lines, 1):
            if not line.strip() or line.lstrip().startswith('#'):
                continue
            try:
                value = json.loads(line)
            except ValueError as e:
                raise SystemExit('%s:%d: %s' % (path, n, e))
            if not isinstance(value, dict):
                raise SystemExit('%s:%d: not a JSON object' % (path, n))
            inputs.append((line, value))
        target = os.path.join(out_dir, app, typ + '.edge.jsonl')
        wanted.add(os.path.abspath(target))
        jobs.append((app, typ, target, inputs))

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        for app, typ, target, inputs in jobs:
            futures = [[pool.submit(serialize, oracle, app, typ, fmt, line) for fmt in ('json', 'xml')]
                       for line, _ in inputs]
            out = []
            for (line, value), pair in zip(inputs, futures):
                parts = ['"input":' + dumps(value)]
                for fut in pair:
                    key, text = fut.result()
                    parts.append(dumps(key) + ':' + dumps(text))
                out.append('{' + ','.join(parts) + '}\n')
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target + '.tmp', 'w', encoding='utf-8', newline='') as f:
                f.write(''.join(out))
            os.replace(target + '.tmp', target)
            print('recorded %s (%d cases)' % (target, len(out)))

    # Edge files whose inputs were removed.
    for old in glob.glob(os.path.join(out_dir, '*', '*.edge.jsonl')):
        if os.path.abspath(old) not in wanted:
            os.remove(old)
            print('removed %s' % old)


if __name__ == '__main__':
    main()
