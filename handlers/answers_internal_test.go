package handlers

import (
	"net/http"
	"slices"
	"testing"

	"aspgate/contracts"
)

// TestReplyStatusesDocumentEveryAnswer: each HTTP status at which a face answers with its response type
// is 200 or one of its route's ReplyStatuses, which the OpenAPI document lists; a new answer in a table
// without its status in the route table fails here rather than going undocumented.
func TestReplyStatusesDocumentEveryAnswer(t *testing.T) {
	statuses := map[*contracts.App][]int{contracts.LCManager: {http.StatusOK}, contracts.Aries: {http.StatusOK},
		contracts.Customer: {http.StatusOK}}
	for _, a := range erAnswers {
		statuses[contracts.EReader] = append(statuses[contracts.EReader], apiResult(a.status, a.result).Status)
	}
	for _, r := range contracts.Routes() {
		documented := append([]int{http.StatusOK}, r.ReplyStatuses...)
		for _, s := range statuses[r.App] {
			if !slices.Contains(documented, s) {
				t.Errorf("%s answers %d with its response type; the route documents %v", r.App.ID, s, documented)
			}
		}
		for _, s := range r.ReplyStatuses {
			if !slices.Contains(statuses[r.App], s) {
				t.Errorf("%s documents %d, which no answer has", r.App.ID, s)
			}
		}
	}
}
