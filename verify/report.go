package verify

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	e.SetEscapeHTML(false)
	return e.Encode(r)
}

// WriteText writes what a person reads: each case that differs or failed with its request and each
// difference, then a summary line.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	for _, res := range r.Results {
		if res.Outcome != Differ && res.Outcome != Error {
			continue
		}
		fmt.Fprintf(&b, "%s  %s\n    %s %s", strings.ToUpper(res.Outcome), res.Name, res.Method, res.Target)
		for _, h := range res.Header {
			fmt.Fprintf(&b, " -H '%s: %s'", h[0], h[1])
		}
		if res.Body != "" {
			fmt.Fprintf(&b, " (body %d bytes)", len(res.Body))
		}
		b.WriteString("\n")
		if res.Reason != "" {
			fmt.Fprintf(&b, "    %s\n", res.Reason)
		}
		for _, d := range res.Differences {
			fmt.Fprintf(&b, "    - %s\n", d)
		}
	}
	fmt.Fprintf(&b, "%s: %d cases against %s: %d agree, %d differ, %d skipped, %d errors\n",
		r.App, r.Cases, r.Target, r.Agree, r.Differ, r.Skipped, r.Errors)
	_, err := io.WriteString(w, b.String())
	return err
}

// JUnit XML, as CI servers read it.
type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Class   string        `xml:"classname,attr"`
	Name    string        `xml:"name,attr"`
	Failure *junitMessage `xml:"failure,omitempty"`
	Error   *junitMessage `xml:"error,omitempty"`
	Skipped *junitMessage `xml:"skipped,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes the report as JUnit XML: a suite per run, a test case per corpus case.
func (r *Report) WriteJUnit(w io.Writer) error {
	s := junitSuite{Name: "aspgate verify " + r.App + " " + r.Target, Tests: r.Cases, Failures: r.Differ, Errors: r.Errors,
		Skipped: r.Skipped, Time: fmt.Sprintf("%.3f", r.Seconds)}
	for _, res := range r.Results {
		c := junitCase{Class: r.App + "." + res.Class, Name: res.Name}
		request := res.Method + " " + res.Target
		switch res.Outcome {
		case Differ:
			c.Failure = &junitMessage{Message: fmt.Sprintf("%d differences", len(res.Differences)),
				Text: request + "\n" + strings.Join(res.Differences, "\n")}
		case Error:
			c.Error = &junitMessage{Message: res.Reason, Text: request}
		case Skipped:
			c.Skipped = &junitMessage{Message: res.Reason}
		}
		s.Cases = append(s.Cases, c)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	e := xml.NewEncoder(w)
	e.Indent("", "  ")
	if err := e.Encode(junitSuites{Suites: []junitSuite{s}}); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
