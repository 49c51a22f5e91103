package recording

import (
	"path/filepath"
	"testing"
)

// TestReadAll: every recording parses, with what the replay tests rely on.
func TestReadAll(t *testing.T) {
	recs, err := ReadAll(filepath.Join("..", "..", "testdata", "golden", "requests"))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 138 {
		t.Errorf("%d recordings, want 138", len(recs))
	}
	for _, r := range recs {
		if r.App == "" || r.Method == "" || r.Target == "" || r.Target[0] != '/' || r.Status < 100 || len(r.RespHeader) == 0 {
			t.Errorf("%s: %+v", r.Name, r)
		}
	}
	first := recs[0]
	if first.Name != "01-lcmanager-json-ok.txt" || first.App != "lcmanager" || first.Method != "POST" || first.Status != 200 {
		t.Errorf("first recording %s", first.Name)
	}
}

func TestReadRefusesWhatIsNotARecording(t *testing.T) {
	if _, err := Read(filepath.Join("..", "..", "testdata", "golden", "requests", "bodies", "lcmanager-ok.json")); err == nil {
		t.Error("a body file read as a recording")
	}
}
