//! Property tests: arbitrary bytes and mutated valid documents never panic, and a document the
//! validator accepts is always readable by smps-model.

use proptest::prelude::*;
use smps_validate::Validator;

#[path = "support/invariants.rs"]
mod invariants;

const SEEDS: &[&str] = &[
    "smp_version: v0.0.1\nstart_time: 2024-05-01T10:00:00Z\nend_time: 2024-05-01T10:05:00Z\nlatencies_ms: {min: 1.5, average: 4, p50: 3.9, p90: 7.2, p99: 12.8, max: 40}\nactual_qps: 99.5\nlabels: {a: b}\n",
    "test:\n  name: t\n  clients:\n    - protocol: 1\n      connections: 2\n      rps: 5\n      endpoint_urls: ['https://meshery.io']\n  duration: 6s\nmesh:\n  type: 3\n",
    "{\"kubernetesVersion\": \"v1.29.0\", \"nodes\": [{\"type\": \"n1\", \"cores\": 4, \"memMb\": \"4096\"}]}",
    "ingress_gateway: {count: 1}\nsidecar: {cpu_mCores: 10}\nmesh_type: {type: ISTIO}\n",
    "a: &x [1, 2]\nb: *x\n---\n- {latenciesMs: {p50: 1}}\n",
    // Found by the fuzz target: a second byte-order mark is YAML content for the validator,
    // and was skipped by smps-model's format detection, which then failed to read JSON.
    "\u{feff}\u{feff}{\"type\": \"ISTIO\", \"version\": .x}\n",
];

fn validator() -> &'static Validator {
    static V: std::sync::OnceLock<Validator> = std::sync::OnceLock::new();
    V.get_or_init(|| Validator::new().unwrap())
}

/// The faster gate: everything but readability is checked (see `exercise`).
fn syntax_validator() -> &'static Validator {
    static V: std::sync::OnceLock<Validator> = std::sync::OnceLock::new();
    V.get_or_init(|| {
        Validator::builder()
            .reader_check(smps_validate::ReaderCheck::Syntax)
            .build()
            .unwrap()
    })
}

fn exercise(bytes: &[u8]) {
    invariants::check(validator(), bytes, true);
    // `ReaderCheck::Syntax` does not promise readability (see its docs and
    // `syntax_check_leaves_a_known_gap` below), only everything else.
    invariants::check(syntax_validator(), bytes, false);
}

/// A mutation of a seed document: replace, insert or delete bytes.
fn mutated() -> impl Strategy<Value = Vec<u8>> {
    (
        0..SEEDS.len(),
        prop::collection::vec((any::<u16>(), 0u8..3, any::<u8>()), 1..6),
    )
        .prop_map(|(i, edits)| {
            let mut b = SEEDS[i].as_bytes().to_vec();
            for (pos, op, byte) in edits {
                if b.is_empty() {
                    b.push(byte);
                    continue;
                }
                let p = usize::from(pos) % b.len();
                let byte = b"{}[]:,-&*!|>'\"#\n 0.9eE_~"[usize::from(byte) % 24];
                match op {
                    0 => b[p] = byte,
                    1 => b.insert(p, byte),
                    _ => {
                        b.remove(p);
                    }
                }
            }
            b
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed), ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        exercise(&bytes);
    }

    #[test]
    fn mutated_valid_documents_never_panic(bytes in mutated()) {
        exercise(&bytes);
    }
}

#[test]
fn the_seeds_themselves_are_exercised() {
    for s in SEEDS {
        exercise(s.as_bytes());
    }
}

/// Found by these property tests: a flow mapping with a key that is `null` (here the odd
/// `type":E eISTIO"`) was a known document for the validator (whose tree drops `null` members)
/// and of no known kind for smps-model (whose classifier counted the key). Since issue 13 both
/// ask smps-model's classifier, where `null` is "not set", so every reader check agrees.
#[test]
fn a_null_key_does_not_decide_the_kind() {
    let text = "{type\":E eISTIO\", \"version\": .x}\n";
    let src = smps_validate::Source::text(text).format(smps_validate::Format::Yaml);
    let full = validator().report(&src).unwrap();
    assert!(full.is_valid(), "{full:?}");
    assert_eq!(
        full.documents()[0].kind,
        Some(smps_validate::Kind::ServiceMesh)
    );
    assert!(syntax_validator().is_valid(&src));
    let opts = smps_model::ReadOptions::default().with_format(smps_model::Format::Yaml);
    let docs = smps_model::read_all(text, &opts).unwrap();
    assert_eq!(docs[0].kind(), smps_model::Kind::ServiceMesh);
}
