module aspgate

go 1.26
