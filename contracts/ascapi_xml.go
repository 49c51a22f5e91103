package contracts

import (
	"errors"

	"aspgate/xmlns"
)

// readASCXML binds a text/xml body as ApiArgumentBuilder does: XDocument.Load over a StreamReader (UTF-8
// or what a byte order mark says), then the root's child elements. Anything XDocument refuses is an
// XmlException, which ASC.Api answers 500 "Server error" with its message.
func readASCXML(params *ASCParams, body []byte) *ASCError {
	root, err := xmlns.ParseDocument(decodeBytes(body))
	if err != nil {
		var se *xmlns.SyntaxError
		if errors.As(err, &se) {
			return serverError(se.Message(), HResultXML)
		}
		return serverError(err.Error(), HResultXML)
	}
	fillCollection(params, xelems(root.Children), "")
	return nil
}

func xelems(nodes []*xmlns.Node) []*xelem {
	out := make([]*xelem, len(nodes))
	for i, n := range nodes {
		out[i] = &xelem{ns: n.NS, local: n.Local, elems: xelems(n.Children), text: []byte(n.Text)}
	}
	return out
}
