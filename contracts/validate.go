package contracts

import (
	"fmt"
	"reflect"
	"strings"
	"unicode"
)

// Validate runs the model validation Web API applies after binding: DataAnnotations [Required] on a
// string fails for null, "" and white space ("The Code field is required."); on a value type it never
// fails (a missing JSON member is the JSON reader's error, not validation's). A nil model (an empty or
// unreadable body) is not validated. Errors are keyed by member name, in member order.
func Validate(c *Contract, v any) []FieldError {
	if v == nil {
		return nil
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Type().Elem() != c.Go {
		return nil
	}
	rv = rv.Elem()
	var errs []FieldError
	for i := range c.Members {
		m := &c.Members[i]
		if !m.Required || m.Kind != String {
			continue
		}
		f := rv.Field(m.index)
		if f.IsNil() || strings.TrimFunc(f.Elem().String(), unicode.IsSpace) == "" {
			errs = append(errs, FieldError{Path: m.Name, Err: &ModelError{Msg: fmt.Sprintf("The %s field is required.", m.Name)}})
		}
	}
	return errs
}
