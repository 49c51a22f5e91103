package contracts

import "errors"

// ModelError is a model state error that Web API shows with its own text ("The Code field is required.",
// "The value 'abc' is not valid for Phone."). Every other error carries an exception, and Web API shows
// only "An error has occurred." for those to a remote client.
type ModelError struct{ Msg string }

func (e *ModelError) Error() string { return e.Msg }

// HiddenErrorMessage is what a remote client sees for an error that carries an exception.
const HiddenErrorMessage = "An error has occurred."

// ModelStateMessage is the text Web API puts in the model state for err.
func ModelStateMessage(err error) string {
	var me *ModelError
	if errors.As(err, &me) {
		return me.Msg
	}
	return HiddenErrorMessage
}
