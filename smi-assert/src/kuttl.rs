//! Loads kuttl-style test directories (`NN-*.yaml`) as [`Test`]s.
//!
//! Conventions (kuttl `internal/file/name.go` and `internal/step/step.go`, research §3):
//! - a file named `NN-<name>[-<suffix>].yaml` belongs to step `NN`; files without an index (README,
//!   Tests.md) are ignored; a directory `NN-<name>/` is a step whose files need no prefix;
//! - `NN-assert*.yaml` holds expected objects (→ `assert`, kuttl subset semantics, ordered lists),
//!   `NN-errors*.yaml` objects that must not exist (→ `absent`), any other name is applied;
//! - a `TestStep` object (`kuttl.dev/v1beta1` or the legacy `kudo.dev/v1alpha1`) contributes its
//!   `delete` list (run before the applies) and a `TestAssert` its `timeout` (seconds);
//! - a step that holds only a `TestStep` marker becomes a `custom` operation named after the step
//!   (the layer5io/kuttl fork ran Go tests by step name), with args
//!   `{"test": <directory name>, "step": <step name>}`; [`crate::conformance::UpstreamCheck`]
//!   implements the upstream ones;
//! - `<NAMESPACE>` and `$NAMESPACE` are substituted by the runner.
//!
//! Unsupported kuttl features are reported as errors rather than ignored: `commands`, and
//! `apply`/`assert`/`error` file lists inside `TestStep`, and commands in `TestAssert`.
//!
//! # Examples
//!
//! ```no_run
//! let test = smi_assert::kuttl::load_test_dir("tests/e2e/traffic-access")?;
//! println!("{} steps", test.steps.len());
//! # Ok::<(), smi_assert::Error>(())
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use smps_model::GoDuration;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::backend::ObjectRef;
use crate::error::YamlError;
use crate::error::{Error, Result};
use crate::input::ReadError;
use crate::suite::{AbsentOp, AssertOp, DEFAULT_MAX_FILE_BYTES, Operation, Step, Suite, Test};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileRole {
    Apply,
    Assert,
    Errors,
}

fn classify(name: &str) -> Option<(u32, String, FileRole)> {
    let stem = name.strip_suffix(".yaml")?;
    let (idx, rest) = stem.split_once('-')?;
    if idx.is_empty() || !idx.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let index: u32 = idx.parse().ok()?;
    let first = rest.split('-').next().unwrap_or(rest);
    if first.is_empty() || first.contains('.') {
        return None;
    }
    let role = match first {
        "assert" => FileRole::Assert,
        "errors" => FileRole::Errors,
        _ => FileRole::Apply,
    };
    Some((index, first.to_string(), role))
}

fn read_docs(path: &Path, max_bytes: u64) -> Result<Vec<Value>> {
    let text = crate::input::read_text(path, max_bytes).map_err(|e| match e {
        ReadError::Io(source) => Error::ReadFile {
            path: path.to_path_buf(),
            source,
        },
        ReadError::TooLarge { size, limit } => Error::TooLarge {
            path: path.to_path_buf(),
            size,
            limit,
        },
        ReadError::NotUtf8 { line, column } => Error::NotUtf8 {
            path: path.to_path_buf(),
            line,
            column,
        },
    })?;
    let mut out = Vec::new();
    for (i, de) in serde_yaml::Deserializer::from_str(&text).enumerate() {
        let v = Value::deserialize(de).map_err(|source| Error::ParseKuttl {
            path: path.to_path_buf(),
            document: i + 1,
            source: YamlError::new(source),
        })?;
        if !v.is_null() {
            out.push(v);
        }
    }
    Ok(out)
}

fn is_kuttl(v: &Value, kind: &str) -> bool {
    let av = v["apiVersion"].as_str().unwrap_or("");
    v["kind"] == kind && (av.starts_with("kuttl.dev/") || av.starts_with("kudo.dev/"))
}

#[derive(Default)]
struct StepParts {
    name: Option<String>,
    deletes: Vec<ObjectRef>,
    applies: Vec<Value>,
    asserts: Vec<Value>,
    errors: Vec<Value>,
    timeout: Option<Duration>,
    markers: usize,
    named_by_apply: bool,
}

fn add_file(parts: &mut StepParts, path: &Path, role: FileRole, max_bytes: u64) -> Result<()> {
    for doc in read_docs(path, max_bytes)? {
        if is_kuttl(&doc, "TestStep") {
            for key in ["commands", "apply", "assert", "error"] {
                if doc.get(key).is_some() {
                    return Err(Error::UnsupportedKuttl {
                        path: path.to_path_buf(),
                        what: format!("TestStep `{key}`"),
                    });
                }
            }
            parts.markers += 1;
            for d in doc["delete"].as_array().into_iter().flatten() {
                let r: ObjectRef = serde_json::from_value(json!({
                    "apiVersion": d["apiVersion"], "kind": d["kind"],
                    "namespace": d.get("namespace"), "name": d["name"].as_str().unwrap_or(""),
                }))
                .map_err(|e| Error::UnsupportedKuttl {
                    path: path.to_path_buf(),
                    what: format!("TestStep delete entry ({e})"),
                })?;
                if r.name.is_empty() {
                    return Err(Error::UnsupportedKuttl {
                        path: path.to_path_buf(),
                        what: "TestStep delete by labels or kind".into(),
                    });
                }
                parts.deletes.push(r);
            }
            continue;
        }
        if is_kuttl(&doc, "TestAssert") {
            if doc.get("commands").is_some() {
                return Err(Error::UnsupportedKuttl {
                    path: path.to_path_buf(),
                    what: "TestAssert `commands`".into(),
                });
            }
            if let Some(t) = doc["timeout"].as_u64() {
                parts.timeout = Some(Duration::from_secs(t));
            }
            continue;
        }
        match role {
            FileRole::Apply => parts.applies.push(doc),
            FileRole::Assert => parts.asserts.push(doc),
            FileRole::Errors => parts.errors.push(doc),
        }
    }
    Ok(())
}

/// Loads one kuttl test directory as a [`Test`] named after the directory, with the default
/// [`Loader`].
///
/// # Errors
///
/// [`Error`] naming the file and, for YAML, the document, line and column.
pub fn load_test_dir(dir: impl AsRef<Path>) -> Result<Test> {
    Loader::new().load_test_dir(dir)
}

/// Loads several kuttl test directories into one suite, with the default [`Loader`].
///
/// # Errors
///
/// As [`load_test_dir`].
pub fn load_suite(name: &str, dirs: &[PathBuf]) -> Result<Suite> {
    Loader::new().load_suite(name, dirs)
}

/// Loads kuttl directories with settings: the largest file accepted.
///
/// # Examples
///
/// ```no_run
/// use smi_assert::kuttl::Loader;
/// let test = Loader::new().max_file_bytes(1 << 20).load_test_dir("tests/e2e/traffic-split")?;
/// # Ok::<(), smi_assert::Error>(())
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct Loader {
    max_file_bytes: u64,
}

impl Default for Loader {
    fn default() -> Self {
        Self::new()
    }
}

impl Loader {
    /// A loader with the default settings ([`DEFAULT_MAX_FILE_BYTES`] per file).
    pub fn new() -> Self {
        Loader {
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
        }
    }

    /// The largest file accepted, in bytes: a larger regular file is refused without being
    /// read ([`Error::TooLarge`] with its size), and a FIFO or device is read no further than
    /// this plus one byte.
    pub fn max_file_bytes(mut self, bytes: u64) -> Self {
        self.max_file_bytes = bytes;
        self
    }

    /// Loads one kuttl test directory as a [`Test`] named after the directory.
    ///
    /// # Errors
    ///
    /// [`Error`] naming the file and, for YAML, the document, line and column.
    pub fn load_test_dir(&self, dir: impl AsRef<Path>) -> Result<Test> {
        let dir = dir.as_ref();
        let name = dir.file_name().map_or_else(
            || dir.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|source| Error::ReadDir {
                path: dir.to_path_buf(),
                source,
            })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        let mut steps: BTreeMap<u32, StepParts> = BTreeMap::new();
        for p in entries {
            let fname = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if p.is_dir() {
                let Some((idx, rest)) = fname.split_once('-') else {
                    continue;
                };
                let Ok(index) = idx.parse::<u32>() else {
                    continue;
                };
                let parts = steps.entry(index).or_default();
                if !parts.named_by_apply {
                    parts.name = Some(rest.to_string());
                    parts.named_by_apply = true;
                }
                let mut inner: Vec<PathBuf> = std::fs::read_dir(&p)
                    .map_err(|source| Error::ReadDir {
                        path: p.clone(),
                        source,
                    })?
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|f| f.extension().is_some_and(|x| x == "yaml"))
                    .collect();
                inner.sort();
                for f in inner {
                    let n = f
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    let role = if n.starts_with("assert") {
                        FileRole::Assert
                    } else if n.starts_with("errors") {
                        FileRole::Errors
                    } else {
                        FileRole::Apply
                    };
                    add_file(parts, &f, role, self.max_file_bytes)?;
                }
                continue;
            }
            let Some((index, first, role)) = classify(&fname) else {
                continue;
            };
            let parts = steps.entry(index).or_default();
            // The step is named after its (first) apply file; assert/errors names are a fallback.
            if role == FileRole::Apply && !parts.named_by_apply {
                parts.name = Some(first);
                parts.named_by_apply = true;
            } else if parts.name.is_none() {
                parts.name = Some(first);
            }
            add_file(parts, &p, role, self.max_file_bytes)?;
        }
        let mut test = Test {
            name: name.clone(),
            ..Test::default()
        };
        for (index, parts) in steps {
            let step_name = parts.name.clone().unwrap_or_default();
            let mut ops = Vec::new();
            if !parts.deletes.is_empty() {
                ops.push(Operation::delete(parts.deletes.clone()));
            }
            if !parts.applies.is_empty() {
                ops.push(Operation::apply(parts.applies.clone()));
            }
            let timeout = parts.timeout.and_then(|d| GoDuration::from_std(d).ok());
            for a in &parts.asserts {
                let mut op = AssertOp::new(a.clone());
                op.timeout = timeout.clone();
                ops.push(Operation::Assert(op));
            }
            for e in &parts.errors {
                ops.push(Operation::Absent(AbsentOp {
                    object: e.clone(),
                    timeout: timeout.clone(),
                }));
            }
            if ops.is_empty() && parts.markers > 0 {
                ops.push(Operation::custom(
                    step_name.clone(),
                    json!({ "test": name, "step": step_name }),
                ));
            }
            test.steps.push(Step {
                name: format!("{index:02}-{step_name}"),
                precondition: false,
                timeouts: crate::suite::Timeouts::default(),
                operations: ops,
            });
        }
        Ok(test)
    }

    /// Loads several kuttl test directories into one suite.
    ///
    /// # Errors
    ///
    /// As [`Loader::load_test_dir`].
    pub fn load_suite(&self, name: &str, dirs: &[PathBuf]) -> Result<Suite> {
        let mut tests = Vec::new();
        for d in dirs {
            tests.push(self.load_test_dir(d)?);
        }
        Ok(Suite {
            name: name.to_string(),
            tests,
            ..Suite::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_follow_kuttl_conventions() {
        assert_eq!(
            classify("02-install.yaml"),
            Some((2, "install".into(), FileRole::Apply))
        );
        assert_eq!(
            classify("04-assert.yaml"),
            Some((4, "assert".into(), FileRole::Assert))
        );
        assert_eq!(
            classify("06-errors-x.yaml"),
            Some((6, "errors".into(), FileRole::Errors))
        );
        assert_eq!(
            classify("03-trafficDefault.yaml"),
            Some((3, "trafficDefault".into(), FileRole::Apply))
        );
        assert_eq!(classify("Tests.md"), None);
        assert_eq!(classify("README.yaml"), None);
    }
}
