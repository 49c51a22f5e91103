package store

// LimiterStatements are the limiter's SQL, for the plan checks in limiter_test.go.
var LimiterStatements = map[string]string{
	"read":   sqlLimitRead,
	"take":   sqlLimitTake,
	"charge": sqlLimitCharge,
	"prune":  sqlLimitPrune,
}
