package helppage

import _ "embed" // the stylesheet ships inside the binary

// Stylesheet is /Areas/HelpPage/HelpPage.css, the stylesheet every page links to.
//
//go:embed HelpPage.css
var Stylesheet []byte

// StylesheetPath is where the pages link the stylesheet (the view's ~/Areas/HelpPage/HelpPage.css).
const StylesheetPath = "/Areas/HelpPage/HelpPage.css"
