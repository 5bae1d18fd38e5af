//! Where a finding is in the source text: [`Location`].

use std::fmt;

use serde::Serialize;

/// A position in the source text: 1-based line and 1-based column, columns counting Unicode
/// characters (a tab counts as one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Location {
    line: usize,
    column: usize,
}

impl Location {
    /// A location from a 1-based line and column.
    ///
    /// # Examples
    ///
    /// ```
    /// let at = smps_validate::Location::new(3, 14);
    /// assert_eq!((at.line(), at.column()), (3, 14));
    /// assert_eq!(at.to_string(), "3:14");
    /// ```
    #[must_use]
    pub fn new(line: usize, column: usize) -> Self {
        Location { line, column }
    }

    /// The 1-based line.
    #[must_use]
    pub fn line(&self) -> usize {
        self.line
    }

    /// The 1-based column, in characters.
    #[must_use]
    pub fn column(&self) -> usize {
        self.column
    }

    /// The location of byte `offset` in `text` (clamped to the text's end).
    pub(crate) fn of_offset(text: &str, offset: usize) -> Self {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text.as_bytes()[..offset];
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
        let column = 1 + text[line_start..offset].chars().count();
        Location { line, column }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}
