package sqlite_test

import (
	"path/filepath"
	"testing"

	"aspgate/store/sqlite"
	"aspgate/store/storetest"
)

// TestSuite runs the engines' behavioural suite on SQLite: a second handle is a second *sqlite.DB on the
// same file, as a second process would open it.
func TestSuite(t *testing.T) {
	paths := map[storetest.Engine]string{}
	storetest.Run(t, storetest.Harness{
		Fresh: func(t *testing.T) storetest.Engine {
			path := filepath.Join(t.TempDir(), "aspgate.db")
			db := mustOpen(t, path)
			paths[db] = path
			return db
		},
		Another: func(t *testing.T, e storetest.Engine) storetest.Engine {
			return mustOpen(t, paths[e])
		},
	})
}

var _ storetest.Engine = (*sqlite.DB)(nil)
