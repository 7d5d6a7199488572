//! Plain-text tables with aligned columns.

use std::borrow::Cow;

/// Renders `rows` under `headers`, columns padded to their widest cell. Control characters in
/// a cell (a line break, an escape sequence: data from Kafka) are shown escaped, so that each
/// row stays one line and nothing reaches the terminal as a command.
pub(crate) fn render<const N: usize>(headers: &[&str; N], rows: &[[String; N]]) -> String {
    let rows: Vec<[Cow<'_, str>; N]> = rows
        .iter()
        .map(|row| std::array::from_fn(|i| shown(&row[i])))
        .collect();
    let mut widths = headers.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        out.push_str(padded.join("  ").trim_end());
        out.push('\n');
    };
    line(headers.to_vec());
    for row in &rows {
        line(row.iter().map(|cell| cell.as_ref()).collect());
    }
    out
}

/// `cell` with its control characters escaped as Rust writes them (`\n`, `\u{1b}`).
fn shown(cell: &str) -> Cow<'_, str> {
    if !cell.chars().any(char::is_control) {
        return Cow::Borrowed(cell);
    }
    Cow::Owned(
        cell.chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_with_control_characters_stays_on_its_line_and_is_shown_escaped() {
        let rows = [["u1".to_owned(), "red\nu9  black\u{1b}[2J".to_owned()]];
        let table = render(&["KEY", "VALUE"], &rows);
        assert_eq!(table, "KEY  VALUE\nu1   red\\nu9  black\\u{1b}[2J\n");
    }
}
