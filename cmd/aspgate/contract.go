package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"aspgate/contracts"
	"aspgate/openapi"
)

// Exit codes of the contract commands, the oracle's where it has one.
const (
	exitOK         = 0
	exitInvalid    = 1  // decode: the body is refused
	exitBadInput   = 2  // encode: the input form does not fit the type
	exitSerializer = 3  // encode: the legacy serializer itself throws for this value
	exitUsage      = 64 // wrong arguments
)

// defaultMaxBody is the largest body contract decode reads, as the server's request limit.
const defaultMaxBody = 64 << 10

const contractUsage = `usage:
  aspgate contract types                                  (app, Type, direction)
  aspgate contract sample <app> <Type> <json|xml>         (the help-page sample, exact wire bytes)
  aspgate contract encode <app> <Type> <json|xml>         (member values in the input form on stdin)
  aspgate contract decode <app> <Type> <content-type>     (a body on stdin -> the input form, or error)
  aspgate contract openapi [app]                          (the OpenAPI 3.1 document of one app, or of all)
apps: lcmanager(000) r7office(001) customer(002) ereader(003) aries(004)`

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// runContract is the contract command family: the same positional shape as the oracle, so a script can
// run both and compare bytes.
func runContract(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	code, err := contractCommand(args, stdin, stdout)
	if err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "error: %s\n%s\n", ue.msg, contractUsage)
			return exitUsage
		}
		fmt.Fprintln(stderr, err)
	}
	return code
}

func contractCommand(args []string, stdin io.Reader, stdout io.Writer) (int, error) {
	if len(args) == 0 {
		return exitUsage, usageError{"no contract command"}
	}
	cmd, args := args[0], args[1:]
	if cmd == "types" {
		if len(args) != 0 {
			return exitUsage, usageError{"types takes no arguments"}
		}
		var b strings.Builder
		for _, a := range contracts.Apps() {
			for _, c := range a.Contracts {
				fmt.Fprintf(&b, "%s %s %s\n", a.ID, c.Name, c.Direction)
			}
		}
		_, err := io.WriteString(stdout, b.String())
		return exitOK, err
	}
	if cmd == "openapi" {
		return contractOpenAPI(args, stdout)
	}
	if len(args) != 3 {
		return exitUsage, usageError{cmd + " needs <app> <Type> and a third argument"}
	}
	c, err := contracts.Lookup(args[0], args[1])
	if err != nil {
		return exitUsage, usageError{err.Error()}
	}
	switch cmd {
	case "sample":
		format := args[2]
		if format != "json" && format != "xml" {
			return exitUsage, usageError{"format must be json or xml"}
		}
		v, err := contracts.Sample(c, format)
		if err != nil {
			return exitInvalid, err
		}
		out, err := contracts.Encode(c, format, v)
		if err != nil {
			return exitSerializer, fmt.Errorf("serializer error: %w", err)
		}
		_, err = stdout.Write(out)
		return exitOK, err
	case "encode":
		format := args[2]
		if format != "json" && format != "xml" {
			return exitUsage, usageError{"format must be json or xml"}
		}
		input, err := readLimited(stdin, defaultMaxBody*16)
		if err != nil {
			return exitBadInput, fmt.Errorf("input error: %w", err)
		}
		v, err := contracts.ReadInput(c, input)
		if err != nil {
			return exitBadInput, fmt.Errorf("input error: %w", err)
		}
		out, err := contracts.Encode(c, format, v)
		if err != nil {
			return exitSerializer, fmt.Errorf("serializer error: %w", err)
		}
		_, err = stdout.Write(out)
		return exitOK, err
	case "decode":
		body, err := readLimited(stdin, defaultMaxBody)
		if err != nil {
			return exitInvalid, fmt.Errorf("error: %w", err)
		}
		v, err := contracts.Decode(c, args[2], body)
		if errors.Is(err, contracts.ErrUnsupportedMediaType) {
			return exitUsage, usageError{err.Error()}
		}
		if err != nil {
			return exitInvalid, fmt.Errorf("error: %s", oneLine(err.Error()))
		}
		out, err := contracts.AppendInput(nil, c, v)
		if err != nil {
			return exitInvalid, err
		}
		_, err = stdout.Write(append(out, '\n'))
		return exitOK, err
	}
	return exitUsage, usageError{"unknown contract command " + cmd}
}

// readLimited reads all of r, refusing more than limit bytes without holding them.
func readLimited(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("the body is too large: more than %d bytes", limit)
	}
	return data, nil
}

func oneLine(s string) string {
	return strings.NewReplacer("\r", `\r`, "\n", `\n`).Replace(s)
}

// contractOpenAPI prints the document /Help/openapi.json serves: of one app as its own listener serves
// it, or of every app as the combined listener does.
func contractOpenAPI(args []string, stdout io.Writer) (int, error) {
	apps := contracts.Apps()
	switch len(args) {
	case 0:
	case 1:
		app, ok := contracts.LookupApp(args[0])
		if !ok {
			return exitUsage, usageError{fmt.Sprintf("unknown app %q", args[0])}
		}
		apps = []*contracts.App{app}
	default:
		return exitUsage, usageError{"openapi takes at most one app"}
	}
	version, _ := buildVersion()
	doc, err := openapi.Document(apps, version)
	if err != nil {
		return 1, err
	}
	_, err = stdout.Write(append(doc, '\n'))
	return exitOK, err
}
