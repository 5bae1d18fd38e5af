//! `convert`: converting SMP documents between dialects with smps-model.
//!
//! smps-model reads every dialect met in the wild into one typed [`Document`] and writes it in
//! the two forms tools consume. This program reads a document (Meshery's `{test, mesh}` file
//! from `examples/data` by default; any SMP document, YAML or JSON, as an argument), then:
//!
//! 1. writes it as canonical proto3 JSON (camelCase, enum names, int64 as strings);
//! 2. writes it in the Meshery-compatible dialect as YAML (snake_case, enum numbers, the
//!    `{test, mesh}` wrapper for configs);
//! 3. reads both outputs back and checks they are the same document: converting loses nothing
//!    the model holds.
//!
//! ```text
//! cargo run -p examples --example convert
//! cargo run -p examples --example convert -- results.json
//! ```
//!
//! The command line with every option is `smps convert`.
//!
//! [`Document`]: smps_model::Document
#![allow(clippy::print_stdout)]

use std::path::PathBuf;

use anyhow::{Context, ensure};
use smps_model::{Dialect, Format, ReadOptions};

fn main() -> anyhow::Result<()> {
    let path = std::env::args_os().nth(1).map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/meshery-wrapper.yaml"),
        PathBuf::from,
    );
    let text = examples::input::read_text(&path, examples::input::DEFAULT_MAX_BYTES)?;
    // Any dialect in, one typed document out: the kind and shape are recognised from the keys.
    let doc = smps_model::read(&text, &ReadOptions::default())
        .with_context(|| path.display().to_string())?;
    println!("# {} read as {:?}", doc.kind(), doc.origin);

    let canonical = smps_model::write(&doc, Dialect::Canonical, Format::Json)?;
    println!("# canonical (proto3 JSON)\n{canonical}");
    let meshery = smps_model::write(&doc, Dialect::Meshery, Format::Yaml)?;
    println!("# Meshery-compatible (YAML)\n{meshery}");

    // Both forms read back into the same document.
    for (name, written) in [("canonical", &canonical), ("Meshery", &meshery)] {
        let again = smps_model::read(written, &ReadOptions::default())?;
        ensure!(
            again.body == doc.body,
            "the {name} form did not read back into the same document"
        );
    }
    println!("# both forms read back into the same document");
    Ok(())
}
