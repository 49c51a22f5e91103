#!/usr/bin/env python3
"""Records how the legacy formatters read request and response bodies (called by record-decode.sh).

usage: record_decode.py <oracle.exe> <decode-bodies dir> <golden decode dir>

Each <decode-bodies dir>/<app>.txt lists one body per line, three fields separated by " | " (space, bar,
space; only the first two count, so the body may hold more):

    <Type> | <Content-Type> | <kind>:<body>

(blank lines and lines starting with '#' are comments). <kind> says how the rest of the line gives the bytes:

    raw:   the rest of the line, verbatim, as UTF-8
    json:  a JSON string literal; its text as UTF-8 (for control characters, line breaks, odd white space)
    utf16: a JSON string literal; its text as UTF-16LE (lone surrogates allowed; start with \\ufeff for a BOM)
    hex:   the bytes in hex (white space ignored)
    file:  a file, relative to the repository root (testdata/golden/requests/bodies/...)
    py:    a Python expression giving str (UTF-8; lone surrogates pass through as invalid bytes) or bytes,
           for bodies too long to write out (deep nesting, long values)

Every body is read by the oracle's `deserialize <app> <Type> <Content-Type>`; <golden decode dir>/<app>.jsonl
gets one line per body: {"type", "contentType", "body" (the text, when the bytes are UTF-8 and the charset is
not UTF-16) or "bodyBase64", "oracle" (the oracle's stdout line), "errors" (the keys of its
`model error [key]: ...` stderr lines, in order)}.
"""
import base64
import concurrent.futures
import glob
import json
import os
import re
import subprocess
import sys

MODEL_ERROR = re.compile(r'^model error \[(.*)\]: [\w.`+\[\], ]+?: ', re.S)


def body_bytes(spec, where):
    kind, sep, data = spec.partition(':')
    if not sep:
        raise SystemExit('%s: body needs <kind>:, got %r' % (where, spec[:40]))
    if kind == 'raw':
        return data.encode('utf-8')
    if kind == 'json':
        return json.loads(data).encode('utf-8')
    if kind == 'utf16':
        return json.loads(data).encode('utf-16-le', 'surrogatepass')
    if kind == 'hex':
        return bytes.fromhex(''.join(data.split()))
    if kind == 'file':
        with open(data, 'rb') as f:
            return f.read()
    if kind == 'py':
        v = eval(data, {'__builtins__': {}}, {})
        return v if isinstance(v, bytes) else v.encode('utf-8', 'surrogatepass')
    raise SystemExit('%s: unknown body kind %r' % (where, kind))


def deserialize(oracle, app, typ, content_type, body, where):
    p = subprocess.run(['mono', oracle, 'deserialize', app, typ, content_type], input=body,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = p.stdout.decode('utf-8')
    err = p.stderr.decode('utf-8', 'replace')
    if p.returncode not in (0, 1) or not out.endswith('\n') or out.count('\n') != 1:
        raise SystemExit('%s: oracle exit %d\n%s%s' % (where, p.returncode, out, err))
    keys = []
    for line in err.split('\n'):
        if line.startswith('model error ['):
            m = MODEL_ERROR.match(line)
            if not m:
                raise SystemExit('%s: cannot read %r' % (where, line))
            keys.append(m.group(1))
    return out[:-1], keys


def is_text(body, content_type):
    if 'utf-16' in content_type.lower():
        return False
    try:
        body.decode('utf-8')
        return True
    except UnicodeDecodeError:
        return False


def main():
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    oracle, bodies_dir, out_dir = sys.argv[1:]
    os.makedirs(out_dir, exist_ok=True)
    wanted = set()
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        for path in sorted(glob.glob(os.path.join(bodies_dir, '*.txt'))):
            app = os.path.basename(path)[:-len('.txt')]
            cases = []
            with open(path, encoding='utf-8') as f:
                for n, line in enumerate(f, 1):
                    line = line.rstrip('\r\n')
                    if not line.strip() or line.lstrip().startswith('#'):
                        continue
                    where = '%s:%d' % (path, n)
                    fields = line.split(' | ', 2)
                    if len(fields) != 3:
                        raise SystemExit('%s: want <Type> | <Content-Type> | <kind>:<body>' % where)
                    typ, content_type, spec = fields
                    body = body_bytes(spec, where)
                    cases.append((typ, content_type, body,
                                  pool.submit(deserialize, oracle, app, typ, content_type, body, where)))
            lines = []
            for typ, content_type, body, fut in cases:
                oracle_line, keys = fut.result()
                rec = {'type': typ, 'contentType': content_type}
                if is_text(body, content_type):
                    rec['body'] = body.decode('utf-8')
                else:
                    rec['bodyBase64'] = base64.b64encode(body).decode('ascii')
                rec['oracle'] = oracle_line
                rec['errors'] = keys
                lines.append(json.dumps(rec, ensure_ascii=False, separators=(',', ':')) + '\n')
            target = os.path.join(out_dir, app + '.jsonl')
            wanted.add(os.path.abspath(target))
            with open(target + '.tmp', 'w', encoding='utf-8', newline='') as f:
                f.write(''.join(lines))
            os.replace(target + '.tmp', target)
            print('recorded %s (%d bodies)' % (target, len(lines)))
    for old in glob.glob(os.path.join(out_dir, '*.jsonl')):
        if os.path.abspath(old) not in wanted:
            os.remove(old)
            print('removed %s' % old)


if __name__ == '__main__':
    main()
