// Package report turns a race's results into what people and scripts read:
// Rally's summary report (text, markdown, csv, json), the list of past races,
// and the comparison of two races. It also keeps the race store, one
// directory per race under ~/.rally/races holding race.json, written
// atomically.
//
// Markdown and CSV follow Rally's --report-format output (same rows, same
// wording, same headers); text is the same table aligned for a terminal;
// json is the stored Race itself. Nothing here colours output: the caller
// decides what a terminal gets.
//
// It must not measure, contact a cluster or a host, or know about the
// transport of results: it reads a Race and writes tables and files. It
// never stores credentials: Store.Save refuses a target host with userinfo.
package report
