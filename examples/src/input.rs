//! Reading an example's input (a file, or standard input for `-`) with a size limit, so that
//! `/dev/zero`, a runaway pipe or a huge file ends in a clear error instead of exhausting
//! memory. Shared by the `smps` command line and the other examples that read files.

use std::fmt;
use std::io::Read;
use std::path::Path;

/// The default input limit, in bytes (64 MiB, the same as `smps validate`'s).
pub const DEFAULT_MAX_BYTES: u64 = 64 * 1024 * 1024;

/// How large an input was found to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    /// The real size of a regular file, from its metadata.
    Exactly(u64),
    /// A stream (standard input, a pipe, a device) that held more than this many bytes; it is
    /// never read further.
    MoreThan(u64),
}

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Size::Exactly(n) => write!(f, "{n} bytes"),
            Size::MoreThan(n) => write!(f, "more than {n} bytes"),
        }
    }
}

/// Why an input could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Opening or reading failed.
    #[error("cannot read {name}")]
    Read {
        /// The file name, or `standard input`.
        name: String,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// The input is larger than the limit.
    #[error("cannot read {name}: it holds {size}, over the limit of {limit} bytes")]
    TooLarge {
        /// The file name, or `standard input`.
        name: String,
        /// How large it is.
        size: Size,
        /// The limit.
        limit: u64,
    },
    /// The input is not UTF-8 text.
    #[error(
        "cannot read {name}: not UTF-8 text (invalid byte at line {line}, column {column}, byte offset {offset})"
    )]
    NotUtf8 {
        /// The file name, or `standard input`.
        name: String,
        /// 1-based line of the first invalid byte.
        line: usize,
        /// 1-based column (in characters) of the first invalid byte.
        column: usize,
        /// Byte offset of the first invalid byte.
        offset: usize,
    },
}

/// The name an input is reported under: the path, or `standard input` for `-`.
pub fn display_name(path: &Path) -> String {
    if is_stdin(path) {
        "standard input".to_owned()
    } else {
        path.display().to_string()
    }
}

fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Reads at most `max_bytes` bytes of `path` (`-` is standard input).
///
/// A regular file larger than the limit is refused from its metadata without being read; any
/// other input is read up to `max_bytes + 1` bytes, so a stream never costs more memory than
/// the limit.
///
/// # Errors
///
/// [`Error::Read`] if the input cannot be opened or read; [`Error::TooLarge`] if it holds more
/// than `max_bytes` bytes.
pub fn read_bytes(path: &Path, max_bytes: u64) -> Result<Vec<u8>, Error> {
    let name = || display_name(path);
    let read_error = |source| Error::Read {
        name: name(),
        source,
    };
    let mut buf = Vec::new();
    if is_stdin(path) {
        std::io::stdin()
            .lock()
            .take(max_bytes.saturating_add(1))
            .read_to_end(&mut buf)
            .map_err(read_error)?;
    } else {
        let file = std::fs::File::open(path).map_err(read_error)?;
        let meta = file.metadata().map_err(read_error)?;
        if meta.is_file() && meta.len() > max_bytes {
            return Err(Error::TooLarge {
                name: name(),
                size: Size::Exactly(meta.len()),
                limit: max_bytes,
            });
        }
        file.take(max_bytes.saturating_add(1))
            .read_to_end(&mut buf)
            .map_err(read_error)?;
    }
    if buf.len() as u64 > max_bytes {
        return Err(Error::TooLarge {
            name: name(),
            size: Size::MoreThan(max_bytes),
            limit: max_bytes,
        });
    }
    Ok(buf)
}

/// Reads `path` (`-` is standard input) as UTF-8 text of at most `max_bytes` bytes.
///
/// # Errors
///
/// As [`read_bytes`], plus [`Error::NotUtf8`] naming the first invalid byte.
pub fn read_text(path: &Path, max_bytes: u64) -> Result<String, Error> {
    let bytes = read_bytes(path, max_bytes)?;
    String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let valid = std::str::from_utf8(&e.as_bytes()[..offset]).unwrap_or_default();
        let line_start = valid.rfind('\n').map_or(0, |i| i + 1);
        Error::NotUtf8 {
            name: display_name(path),
            line: valid.matches('\n').count() + 1,
            column: valid[line_start..].chars().count() + 1,
            offset,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("examples-input-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    #[test]
    fn a_file_over_the_limit_is_refused_with_its_real_size() {
        let p = scratch("big.yaml", &[b'a'; 100]);
        let e = read_text(&p, 10).unwrap_err();
        assert!(
            matches!(
                e,
                Error::TooLarge {
                    size: Size::Exactly(100),
                    limit: 10,
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(
            e.to_string()
                .contains("holds 100 bytes, over the limit of 10 bytes")
        );
        assert_eq!(read_text(&p, 100).unwrap().len(), 100);
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn an_endless_stream_is_read_only_up_to_the_limit() {
        let e = read_bytes(Path::new("/dev/zero"), 1000).unwrap_err();
        assert!(
            matches!(
                e,
                Error::TooLarge {
                    size: Size::MoreThan(1000),
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(e.to_string().contains("more than 1000 bytes"), "{e}");
    }

    #[test]
    fn invalid_utf8_names_line_and_column() {
        let p = scratch("latin1.yaml", b"a: 1\nb: caf\xe9\n");
        let e = read_text(&p, 1000).unwrap_err();
        assert!(
            matches!(
                e,
                Error::NotUtf8 {
                    line: 2,
                    column: 7,
                    offset: 11,
                    ..
                }
            ),
            "{e:?}"
        );
    }

    #[test]
    fn a_missing_file_is_a_read_error_with_a_cause() {
        let e = read_text(Path::new("/nonexistent/x.yaml"), 10).unwrap_err();
        assert!(matches!(e, Error::Read { .. }), "{e:?}");
        assert!(std::error::Error::source(&e).is_some());
    }
}
