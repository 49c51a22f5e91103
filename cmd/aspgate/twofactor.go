package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"image/png"
	"io"
	"os"
	"strings"

	"aspgate/account"
	"aspgate/handlers"
)

// withTwoFactor opens the database and the server key and runs fn with the r7office two-factor domain:
// token MACs and TOTP secrets are keyed by the server key, so the CLI needs the same key file as serve.
func (c *adminCommand) withTwoFactor(ctx context.Context, issuer string, fn func(tf *account.TwoFactor) error) error {
	key, err := loadOrCreateKey(c.st.keyPath())
	if err != nil {
		return err
	}
	return c.withStore(ctx, func(db engine) error {
		cfg := account.DefaultTwoFactorConfig()
		if issuer != "" {
			cfg.Issuer = issuer
		}
		return fn(&account.TwoFactor{Store: db, Keys: account.NewKeyring(key), Config: cfg, Log: c.log})
	})
}

// tokenArg is the TOKEN argument; "-" reads it from stdin, which keeps it out of the process list and
// the shell history.
func (c *adminCommand) tokenArg(stdin io.Reader) (string, error) {
	t := c.args[0]
	if t == "-" {
		line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", err
		}
		t = strings.TrimSpace(line)
	}
	if t == "" || len(t) > 512 {
		return "", usageError{"want a token (or - to read it from stdin)"}
	}
	return t, nil
}

func (c *adminCommand) tokenCheck(stdin io.Reader, stdout io.Writer) {
	c.positional = 1
	c.run = func(ctx context.Context) error {
		tok, err := c.tokenArg(stdin)
		if err != nil {
			return err
		}
		return c.withTwoFactor(ctx, "", func(tf *account.TwoFactor) error {
			info, err := tf.Introspect(ctx, tok)
			if err != nil {
				return err
			}
			return writeJSONLine(stdout, handlers.IntrospectionOf(info))
		})
	}
}

func (c *adminCommand) tokenRevoke(stdin io.Reader, stdout io.Writer) {
	c.positional = 1
	c.run = func(ctx context.Context) error {
		tok, err := c.tokenArg(stdin)
		if err != nil {
			return err
		}
		return c.withTwoFactor(ctx, "", func(tf *account.TwoFactor) error {
			if err := tf.Revoke(ctx, tok); err != nil {
				return err
			}
			_, err := fmt.Fprintln(stdout, "revoked")
			return err
		})
	}
}

func (c *adminCommand) totpEnroll(stdout io.Writer) {
	user := c.fs.String("user", "", "the user's `name or e-mail`")
	qr := c.fs.String("qr", "", "also write the QR code to this PNG `file` (it holds the secret: mode 0600)")
	issuer := c.fs.String("issuer", "", "issuer shown by authenticator apps (default R7-Office)")
	c.run = func(ctx context.Context) error {
		if *user == "" {
			return usageError{"totp enroll needs --user"}
		}
		return c.withTwoFactor(ctx, *issuer, func(tf *account.TwoFactor) error {
			key, err := tf.EnrollTOTP(ctx, *user)
			if errors.Is(err, account.ErrNotFound) {
				return fmt.Errorf("no user %q", *user)
			}
			if err != nil {
				return err
			}
			if *qr != "" {
				img, err := key.Image(256, 256)
				if err != nil {
					return err
				}
				f, err := os.OpenFile(*qr, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
				if err != nil {
					return err
				}
				if err := errors.Join(png.Encode(f, img), f.Close()); err != nil {
					return err
				}
			}
			// The URI on a line of its own, for a QR generator or a script; the secret once, for typing in.
			_, err = fmt.Fprintf(stdout, "%s\nsecret: %s\n", key.URL(), key.Secret())
			return err
		})
	}
}

func (c *adminCommand) totpDisable(stdout io.Writer) {
	user := c.fs.String("user", "", "the user's `name or e-mail`")
	c.run = func(ctx context.Context) error {
		if *user == "" {
			return usageError{"totp disable needs --user"}
		}
		return c.withTwoFactor(ctx, "", func(tf *account.TwoFactor) error {
			err := tf.DisableTOTP(ctx, *user)
			if errors.Is(err, account.ErrNotFound) {
				return fmt.Errorf("no user %q", *user)
			}
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(stdout, "disabled")
			return err
		})
	}
}
