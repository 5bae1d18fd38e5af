//! Inputs: text, bytes or a file; format detection; decoding checks.

use std::borrow::Cow;
use std::io::Read;
use std::path::{Path, PathBuf};

use smps_model::Kind;

use crate::format::Format;
use crate::location::Location;
use crate::{Error, Result};

#[derive(Debug, Clone)]
enum Data<'a> {
    Text(Cow<'a, str>),
    Bytes(Cow<'a, [u8]>),
    Path(PathBuf),
}

/// One input to validate: text, bytes or a file, with an optional format and kind.
///
/// Without [`Source::format`] the format comes from the file extension (`.json`, `.yaml`,
/// `.yml`) or, failing that, from the content: text that starts with `{` or `[` is JSON, anything
/// else YAML. Without [`Source::kind`] each document's kind is detected from its keys.
///
/// # Examples
///
/// ```
/// use smps_validate::{Format, Source};
/// use smps_model::Kind;
///
/// let src = Source::text("{\"latenciesMs\": {}}")
///     .format(Format::Json)
///     .kind(Kind::PerformanceTestResult);
/// assert_eq!(src.name(), "<text>");
/// ```
#[derive(Debug, Clone)]
pub struct Source<'a> {
    data: Data<'a>,
    format: Option<Format>,
    kind: Option<Kind>,
    name: Option<String>,
}

impl<'a> Source<'a> {
    /// Text already in memory.
    #[must_use]
    pub fn text(text: impl Into<Cow<'a, str>>) -> Self {
        Self::new(Data::Text(text.into()))
    }

    /// Bytes of unknown encoding; they must be UTF-8 (a UTF-8 byte-order mark is skipped).
    #[must_use]
    pub fn bytes(bytes: impl Into<Cow<'a, [u8]>>) -> Self {
        Self::new(Data::Bytes(bytes.into()))
    }

    /// A file, read when validated. A regular file over the size limit is refused unread (the
    /// error gives its size); a stream (a pipe, a device) is never read beyond the limit plus
    /// one byte.
    #[must_use]
    pub fn path(path: impl AsRef<Path>) -> Self {
        let path = path.as_ref().to_path_buf();
        Self::new(Data::Path(path))
    }

    fn new(data: Data<'a>) -> Self {
        Source {
            data,
            format: None,
            kind: None,
            name: None,
        }
    }

    /// Parses the input as `format` instead of detecting it.
    #[must_use]
    pub fn format(mut self, format: Format) -> Self {
        self.format = Some(format);
        self
    }

    /// Validates every document as `kind` instead of detecting it.
    #[must_use]
    pub fn kind(mut self, kind: Kind) -> Self {
        self.kind = Some(kind);
        self
    }

    /// Names the input in reports (defaults to the path, or `<text>` / `<bytes>`).
    #[must_use]
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The name used in reports.
    #[must_use]
    pub fn name(&self) -> Cow<'_, str> {
        if let Some(n) = &self.name {
            return Cow::Borrowed(n);
        }
        match &self.data {
            Data::Text(_) => Cow::Borrowed("<text>"),
            Data::Bytes(_) => Cow::Borrowed("<bytes>"),
            Data::Path(p) => p.to_string_lossy(),
        }
    }

    pub(crate) fn forced_kind(&self) -> Option<Kind> {
        self.kind
    }

    /// Reads and decodes the input, enforcing the size limit. Text given as `str` is not yet
    /// checked for NUL bytes ([`Loaded::nul_checked`]): the caller runs [`check_text`] unless a
    /// reader that refuses NUL bytes has already read the whole text.
    pub(crate) fn load(&self, limit: u64) -> Result<Loaded<'_>> {
        let mut nul_checked = true;
        let text: Cow<'_, str> = match &self.data {
            Data::Text(t) => {
                check_size(t.len() as u64, limit)?;
                nul_checked = false;
                Cow::Borrowed(t.as_ref())
            }
            Data::Bytes(b) => {
                check_size(b.len() as u64, limit)?;
                Cow::Borrowed(decode(b)?)
            }
            Data::Path(p) => {
                let read_err = |source| Error::ReadFile {
                    path: p.clone(),
                    source,
                };
                let file = std::fs::File::open(p).map_err(read_err)?;
                // A regular file's size is known up front: refuse it unread, with its size.
                let regular = file.metadata().ok().filter(std::fs::Metadata::is_file);
                if let Some(m) = &regular {
                    check_size(m.len(), limit)?;
                }
                let mut buf = Vec::new();
                file.take(limit.saturating_add(1))
                    .read_to_end(&mut buf)
                    .map_err(read_err)?;
                // A stream (or a file that grew since) was read only up to the limit.
                if buf.len() as u64 > limit {
                    return Err(Error::StreamTooLarge { limit });
                }
                decode(&buf)?;
                match String::from_utf8(buf) {
                    Ok(s) => Cow::Owned(s),
                    // `decode` accepted the bytes, so this cannot happen; report it as such anyway.
                    Err(e) => {
                        return Err(not_utf8(e.as_bytes(), e.utf8_error().valid_up_to()));
                    }
                }
            }
        };
        let format = self.format.or_else(|| self.format_from_extension());
        Ok(Loaded {
            text,
            format,
            nul_checked,
        })
    }

    fn format_from_extension(&self) -> Option<Format> {
        let Data::Path(p) = &self.data else {
            return None;
        };
        match p.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "json" => Some(Format::Json),
            "yaml" | "yml" => Some(Format::Yaml),
            _ => None,
        }
    }
}

/// A decoded input.
#[derive(Debug)]
pub(crate) struct Loaded<'a> {
    pub(crate) text: Cow<'a, str>,
    pub(crate) format: Option<Format>,
    /// Whether [`check_text`] has run on `text` (bytes and files: always; `str`: never).
    pub(crate) nul_checked: bool,
}

impl Loaded<'_> {
    /// The text without a leading byte-order mark, and the offset it starts at.
    pub(crate) fn body(&self) -> &str {
        self.text.strip_prefix('\u{feff}').unwrap_or(&self.text)
    }
}

fn check_size(size: u64, limit: u64) -> Result<()> {
    if size > limit {
        Err(Error::TooLarge { size, limit })
    } else {
        Ok(())
    }
}

fn not_utf8(bytes: &[u8], offset: usize) -> Error {
    // Lines and columns of the valid prefix.
    let prefix = std::str::from_utf8(&bytes[..offset]).unwrap_or("");
    Error::NotUtf8 {
        offset,
        location: Location::of_offset(prefix, prefix.len()),
    }
}

/// Checks that `bytes` are UTF-8 text (not UTF-16/32, not binary) and returns them as `&str`.
fn decode(bytes: &[u8]) -> Result<&str> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(Error::NotText {
            reason: "UTF-16 or UTF-32 byte-order mark (only UTF-8 is supported)",
            location: Location::new(1, 1),
        });
    }
    if bytes.starts_with(&[0, 0, 0xFE, 0xFF]) {
        return Err(Error::NotText {
            reason: "UTF-32 byte-order mark (only UTF-8 is supported)",
            location: Location::new(1, 1),
        });
    }
    let text = std::str::from_utf8(bytes).map_err(|e| not_utf8(bytes, e.valid_up_to()))?;
    check_text(text)?;
    Ok(text)
}

/// Rejects NUL bytes, which no YAML or JSON document contains but binary files do.
pub(crate) fn check_text(text: &str) -> Result<()> {
    // `contains` on bytes is a memchr; find the position only on the error path.
    if !text.as_bytes().contains(&0) {
        return Ok(());
    }
    match text.as_bytes().iter().position(|&b| b == 0) {
        Some(i) => Err(Error::NotText {
            reason: "NUL byte (binary data?)",
            location: Location::of_offset(text, i),
        }),
        None => Ok(()),
    }
}

/// Guesses the format from the first significant character.
pub(crate) fn sniff(text: &str) -> Format {
    match text.trim_start().as_bytes().first() {
        Some(b'{' | b'[') => Format::Json,
        _ => Format::Yaml,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_map_to_one_based_lines_and_character_columns() {
        let t = "ab\ncdé\nf";
        assert_eq!(Location::of_offset(t, 0), Location::new(1, 1));
        assert_eq!(Location::of_offset(t, 3), Location::new(2, 1));
        assert_eq!(Location::of_offset(t, 7), Location::new(2, 4));
        assert_eq!(Location::of_offset(t, 8), Location::new(3, 1));
        assert_eq!(Location::of_offset(t, 99), Location::new(3, 2));
    }

    #[test]
    fn bytes_that_are_not_utf8_name_the_offending_position() {
        let src = Source::bytes(&b"a: 1\nb: \xff\n"[..]);
        match src.load(1000) {
            Err(Error::NotUtf8 { offset, location }) => {
                assert_eq!(offset, 8);
                assert_eq!(location, Location::new(2, 4));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn nul_bytes_and_utf16_are_rejected_as_not_text() {
        assert!(matches!(
            Source::bytes(&b"a: \0"[..]).load(100),
            Err(Error::NotText { .. })
        ));
        assert!(matches!(
            Source::bytes(&b"\xff\xfea\0"[..]).load(100),
            Err(Error::NotText { .. })
        ));
    }

    #[test]
    fn inputs_over_the_limit_are_rejected() {
        assert!(matches!(
            Source::text("12345").load(4),
            Err(Error::TooLarge { size: 5, limit: 4 })
        ));
        assert!(Source::text("1234").load(4).is_ok());
    }

    #[test]
    fn sniffing_prefers_json_for_braces() {
        assert_eq!(sniff("  {\"a\":1}"), Format::Json);
        assert_eq!(sniff("[1]"), Format::Json);
        assert_eq!(sniff("a: 1"), Format::Yaml);
    }
}
