package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// cell is one table value: text as the terminal and markdown show it, raw as
// CSV writes it (Rally writes unformatted values to CSV and lets tabulate
// format them for the console).
type cell struct {
	text, raw string
	// number marks a value of a numeric column; empty cells of a numeric
	// column are not numbers.
	number bool
}

// str is a text cell.
func str(s string) cell { return cell{text: s, raw: s} }

// num is a measured value: shown with 6 significant digits (as tabulate's
// default "g" format does), written to CSV in full.
func num(v float64) cell {
	return cell{text: strconv.FormatFloat(v, 'g', 6, 64), raw: strconv.FormatFloat(v, 'f', -1, 64), number: true}
}

// fixed2 is a value Rally formats as "%.2f" (throughput, error rate): CSV
// keeps the two decimals, the table shows the rounded value like tabulate.
func fixed2(v float64) cell {
	r := strconv.FormatFloat(v, 'f', 2, 64)
	f, _ := strconv.ParseFloat(r, 64)
	return cell{text: strconv.FormatFloat(f, 'g', 6, 64), raw: r, number: true}
}

// integer is a count.
func integer(n int64) cell {
	s := strconv.FormatInt(n, 10)
	return cell{text: s, raw: s, number: true}
}

// column describes one table column.
type column struct {
	header string
	// numeric columns are aligned on the decimal point.
	numeric bool
}

// table is rows of cells under headers, rendered in the text, markdown or
// csv format.
type table struct {
	columns []column
	rows    [][]cell
	// markdownLeft aligns text columns left in markdown; Rally's tables
	// align them right (tabulate's stralign="right").
	markdownLeft bool
}

func (t *table) add(cells ...cell) { t.rows = append(t.rows, cells) }

func (t *table) write(w io.Writer, f Format) error {
	switch f {
	case Text:
		return t.writeText(w)
	case Markdown:
		return t.writeMarkdown(w)
	case CSV:
		return t.writeCSV(w)
	}
	return fmt.Errorf("table: format %q has no table form", f)
}

func width(s string) int { return utf8.RuneCountInString(s) }

func padLeft(s string, n int) string  { return strings.Repeat(" ", max(0, n-width(s))) + s }
func padRight(s string, n int) string { return s + strings.Repeat(" ", max(0, n-width(s))) }

// aligned returns column i's cells padded so that decimal points line up
// (numeric columns) and the column's width, at least minWidth. Like
// tabulate, digits after the point are counted from the last '.' (or the
// exponent's 'e'), and an integer gets as much padding as a point and all
// the decimals.
func (t *table) aligned(i, minWidth int) ([]string, int) {
	out := make([]string, len(t.rows))
	for r, row := range t.rows {
		out[r] = row[i].text
	}
	if t.columns[i].numeric {
		after := make([]int, len(out))
		most := -1
		for r, row := range t.rows {
			after[r] = afterPoint(row[i])
			most = max(most, after[r])
		}
		for r := range out {
			out[r] += strings.Repeat(" ", most-after[r])
		}
	}
	w := minWidth
	for _, s := range out {
		w = max(w, width(s))
	}
	return out, w
}

func afterPoint(c cell) int {
	if !c.number {
		return -1
	}
	pos := strings.LastIndexByte(c.text, '.')
	if pos < 0 {
		pos = strings.LastIndexAny(c.text, "eE")
	}
	if pos < 0 {
		return -1
	}
	return len(c.text) - pos - 1
}

// writeText writes the table aligned for a terminal: text columns left,
// numbers on their decimal point, two spaces between columns, a dashed line
// under the headers. Lines carry no trailing spaces.
func (t *table) writeText(w io.Writer) error {
	cols := make([][]string, len(t.columns))
	widths := make([]int, len(t.columns))
	for i, c := range t.columns {
		cols[i], widths[i] = t.aligned(i, width(c.header))
	}
	var b strings.Builder
	line := func(cells func(i int) string) {
		parts := make([]string, len(t.columns))
		for i, c := range t.columns {
			if c.numeric {
				parts[i] = padLeft(cells(i), widths[i])
			} else {
				parts[i] = padRight(cells(i), widths[i])
			}
		}
		b.WriteString(strings.TrimRight(strings.Join(parts, "  "), " "))
		b.WriteByte('\n')
	}
	line(func(i int) string { return t.columns[i].header })
	line(func(i int) string { return strings.Repeat("-", widths[i]) })
	for r := range t.rows {
		line(func(i int) string { return cols[i][r] })
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeMarkdown writes the table as tabulate's "pipe" format with Rally's
// settings (numalign="decimal", stralign="right"): every column at least
// two wider than its header, right-aligned headers and separators ending
// in ':' except for left-aligned text columns.
func (t *table) writeMarkdown(w io.Writer) error {
	cols := make([][]string, len(t.columns))
	widths := make([]int, len(t.columns))
	for i, c := range t.columns {
		cols[i], widths[i] = t.aligned(i, width(c.header)+2)
	}
	left := func(i int) bool { return t.markdownLeft && !t.columns[i].numeric }
	pad := func(i int, s string) string {
		if left(i) {
			return padRight(s, widths[i])
		}
		return padLeft(s, widths[i])
	}
	var b strings.Builder
	row := func(cells func(i int) string) {
		b.WriteByte('|')
		for i := range t.columns {
			b.WriteString(" " + pad(i, cells(i)) + " |")
		}
		b.WriteByte('\n')
	}
	row(func(i int) string { return t.columns[i].header })
	b.WriteByte('|')
	for i := range t.columns {
		if left(i) {
			b.WriteString(":" + strings.Repeat("-", widths[i]+1) + "|")
		} else {
			b.WriteString(strings.Repeat("-", widths[i]+1) + ":|")
		}
	}
	b.WriteByte('\n')
	for r := range t.rows {
		row(func(i int) string { return cols[i][r] })
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeCSV writes the headers and the raw values, as Rally's csv format.
func (t *table) writeCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	headers := make([]string, len(t.columns))
	for i, c := range t.columns {
		headers[i] = c.header
	}
	if err := cw.Write(headers); err != nil {
		return err
	}
	for _, row := range t.rows {
		rec := make([]string, len(row))
		for i, c := range row {
			rec[i] = c.raw
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// finite replaces NaN and infinities, which neither JSON nor a reader of a
// report can use, with 0.
func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}
