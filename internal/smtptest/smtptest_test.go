package smtptest

import (
	"net/smtp"
	"sync"
	"testing"
)

func TestOnMessageSeesRefusedAndAcceptedMessages(t *testing.T) {
	s, err := Start("")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	type seen struct {
		code    int
		subject string
		to      []string
	}
	var mu sync.Mutex
	var got []seen
	s.OnMessage(func(m Message, code int) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, seen{code, m.Subject, m.To})
	})
	s.FailNext(451)
	msg := []byte("From: a@example.com\r\nTo: b@example.com\r\nSubject: =?utf-8?q?=D0=9A=D0=BE=D0=B4?=\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n\r\nbody 123456\r\n")
	if err := smtp.SendMail(s.Addr, nil, "a@example.com", []string{"b@example.com"}, msg); err == nil {
		t.Fatal("the scripted 451 did not reach the client")
	}
	if err := smtp.SendMail(s.Addr, nil, "a@example.com", []string{"b@example.com"}, msg); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 || got[0].code != 451 || got[1].code != 250 || got[1].subject != "Код" ||
		len(got[1].to) != 1 || got[1].to[0] != "b@example.com" || got[0].subject != "Код" {
		t.Fatalf("OnMessage saw %+v", got)
	}
	if n := len(s.Messages()); n != 1 {
		t.Fatalf("%d messages kept, want only the accepted one", n)
	}
}
