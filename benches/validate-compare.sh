#!/usr/bin/env bash
# Validates the same generated corpus (10,000 PerformanceTestResult documents, 10 % invalid, as
# JSON and YAML files) with smps-validate, Python `jsonschema` and `ajv`, each in process with
# all documents read into memory first, and prints documents/s and ratios.
#
#   bash benches/validate-compare.sh [ROUNDS]        (default 5; best round is reported)
#
# Python and Node packages are installed from PyPI / npm into target/validate-compare/.
# Equal work: every tool must report the same number of invalid documents (1,000); the script
# fails otherwise. The peers check only the JSON Schema (the strict schema smps-validate
# applies, written by the helper); smps-validate also runs its semantic rules, locates every
# finding (line:column) and, in `report`, the smps-model reader check.
set -euo pipefail

ROUNDS="${1:-5}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="${VALIDATE_COMPARE_DIR:-$ROOT/target/validate-compare}"
mkdir -p "$WORK"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

if [ -n "${VALIDATE_COMPARE_HELPER:-}" ]; then
    HELPER="$VALIDATE_COMPARE_HELPER"   # a prebuilt helper binary
else
    echo "== building the helper (release)" >&2
    cargo build --release -q -p benches --example validate-compare
    HELPER="$CARGO_TARGET_DIR/release/examples/validate-compare"
fi
"$HELPER" gen "$WORK/data"

echo "== installing Python jsonschema and PyYAML (PyPI)" >&2
if [ ! -x "$WORK/venv/bin/python" ]; then
    python3 -m venv "$WORK/venv"
fi
"$WORK/venv/bin/pip" install -q --disable-pip-version-check 'jsonschema[format-nongpl]' pyyaml

echo "== installing ajv and ajv-formats (npm)" >&2
mkdir -p "$WORK/node"
if [ ! -d "$WORK/node/node_modules/ajv-formats" ]; then
    (cd "$WORK/node" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund ajv ajv-formats >/dev/null)
fi

cat > "$WORK/pybench.py" <<'PY'
import glob, json, sys, time
from importlib.metadata import version
import jsonschema, yaml
data, rounds = sys.argv[1], int(sys.argv[2])
schema = json.load(open(f"{data}/schema.json"))
validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
for ext in ("json", "yaml"):
    texts = [open(p).read() for p in sorted(glob.glob(f"{data}/{ext}/*.{ext}"))]
    parse = json.loads if ext == "json" else (lambda t: yaml.load(t, Loader=loader))
    best, invalid = float("inf"), 0
    for _ in range(rounds):
        start = time.perf_counter()
        invalid = 0
        for t in texts:
            errors = [(list(e.absolute_path), e.message) for e in validator.iter_errors(parse(t))]
            if errors:
                invalid += 1
        best = min(best, time.perf_counter() - start)
    print(f"python-jsonschema {version('jsonschema')}\t{ext}\titer_errors\t{best:.4f}\t{len(texts)/best:.0f}\t{invalid}")
PY

cat > "$WORK/node/bench.js" <<'JS'
const fs = require("fs");
const path = require("path");
const Ajv2020 = require("ajv/dist/2020");
const addFormats = require("ajv-formats");
const [data, rounds] = [process.argv[2], Number(process.argv[3])];
const schema = JSON.parse(fs.readFileSync(path.join(data, "schema.json"), "utf8"));
const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats(ajv);
const validate = ajv.compile(schema);
const dir = path.join(data, "json");
const texts = fs.readdirSync(dir).sort().map((f) => fs.readFileSync(path.join(dir, f), "utf8"));
let best = Infinity, invalid = 0;
for (let r = 0; r < rounds; r++) {
  const start = process.hrtime.bigint();
  invalid = 0;
  for (const t of texts) {
    if (!validate(JSON.parse(t))) {
      invalid++;
      validate.errors.map((e) => e.instancePath + " " + e.message);
    }
  }
  best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e9);
}
const version = require("ajv/package.json").version;
console.log(`ajv ${version}\tjson\tallErrors\t${best.toFixed(4)}\t${(texts.length / best).toFixed(0)}\t${invalid}`);
JS

RESULTS="$WORK/results.tsv"
: > "$RESULTS"
echo "== smps-validate" >&2
"$HELPER" run "$WORK/data" "$ROUNDS" | tee -a "$RESULTS" >&2
echo "== ajv" >&2
node "$WORK/node/bench.js" "$WORK/data" "$ROUNDS" | tee -a "$RESULTS" >&2
echo "== python jsonschema" >&2
"$WORK/venv/bin/python" "$WORK/pybench.py" "$WORK/data" "$(( ROUNDS < 3 ? ROUNDS : 3 ))" | tee -a "$RESULTS" >&2

EXPECTED="$(cat "$WORK/data/expected-invalid.txt")"
"$WORK/venv/bin/python" - "$RESULTS" "$EXPECTED" <<'PY'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
expected = int(sys.argv[2])
bad = [r for r in rows if r[5] != "-" and int(r[5]) != expected]
ours = {r[1]: float(r[4]) for r in rows if r[0] == "smps-validate" and r[2] == "report"}
print(f"{'tool':<28}{'format':<7}{'mode':<14}{'best s':>9}{'docs/s':>11}{'invalid':>9}{'ours (report) ×':>17}")
for tool, fmt, mode, secs, dps, inv in rows:
    ratio = ours[fmt] / float(dps)
    print(f"{tool:<28}{fmt:<7}{mode:<14}{float(secs):>9.4f}{int(dps):>11,}{inv:>9}{ratio:>16.2f}x")
if bad:
    print(f"EQUAL-WORK CHECK FAILED: expected {expected} invalid documents: {bad}")
    sys.exit(1)
print(f"equal work: every tool found {expected} invalid documents")
PY
