package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"

	"aspgate/account"
	"aspgate/store/postgres"
	"time"
)

// Defaults and environment variables of the storage settings, shared by serve and the admin commands.
const (
	defaultDBPath = "aspgate.db" // in the working directory
	envDB         = "ASPGATE_DB"
	envKeyFile    = "ASPGATE_HMAC_KEY_FILE"
	keyFileSuffix = ".key" // the key file defaults to the database path plus this
	minKeyBytes   = 32
)

// storageFlags are --db and --hmac-key-file, which every command that touches the database takes.
type storageFlags struct {
	db      string
	keyFile string
}

// register adds the flags to fs with their defaults from the environment.
func (s *storageFlags) register(fs *flag.FlagSet) {
	db := os.Getenv(envDB)
	if db == "" {
		db = defaultDBPath
	}
	s.db = db
	fs.Var(dbFlag{&s.db}, "db", "SQLite database `file`, created and migrated when missing, or a PostgreSQL DSN "+
		"postgres://user@host/db (migrated when behind; needs --hmac-key-file) (env "+envDB+")")
	fs.StringVar(&s.keyFile, "hmac-key-file", os.Getenv(envKeyFile),
		"server HMAC key `file`, created when missing (default: the database path + \".key\"; env "+envKeyFile+")")
}

// keyPath is the HMAC key file: --hmac-key-file or ASPGATE_HMAC_KEY_FILE, else the database path + ".key".
func (s *storageFlags) keyPath() string { return keyFilePath(s.db, s.keyFile) }

// keyFilePath resolves the key file for a database: the configured path, else dbPath + ".key".
func keyFilePath(dbPath, configured string) string {
	if configured != "" {
		return configured
	}
	if postgres.IsDSN(dbPath) {
		return "" // required: loadOrCreateKey says so
	}
	return dbPath + keyFileSuffix
}

// openStore opens (creating and migrating when needed) the database with the default options.
func openStore(ctx context.Context, dbPath string) (engine, error) {
	return openEngine(ctx, dbPath, nil, engineOptions{postgres: engineFlags{maxConns: 4, connectTimeout: 10 * time.Second, statementTimeout: 30 * time.Second}})
}

// loadOrCreateKey reads the server HMAC key (hex, at least 32 bytes) from path. When the file does not
// exist it writes a fresh 32-byte key there with mode 0600, atomically: a concurrent start that loses the
// race reads the winner's key, so two processes never use different keys.
func loadOrCreateKey(path string) ([]byte, error) {
	if path == "" {
		return nil, errKeyFileForDSN
	}
	key, err := readKey(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".*.tmp") // CreateTemp uses mode 0600
	if err != nil {
		return nil, fmt.Errorf("hmac key file %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("hmac key file %s: %w", path, err)
	}
	fresh := account.NewKey()
	_, err = tmp.WriteString(hex.EncodeToString(fresh) + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("hmac key file %s: %w", path, err)
	}
	// Link fails when path exists: the file appears complete or not at all, and an existing key is never
	// overwritten.
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return readKey(path)
		}
		return nil, fmt.Errorf("hmac key file %s: %w", path, err)
	}
	return fresh, nil
}

// readKey reads a hex-encoded key file; errors never quote its content.
func readKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("hmac key file %s: %w", path, err)
	}
	key, err := hex.DecodeString(string(bytes.TrimSpace(b)))
	if err != nil {
		return nil, fmt.Errorf("hmac key file %s: not hex-encoded", path)
	}
	if len(key) < minKeyBytes {
		return nil, fmt.Errorf("hmac key file %s: the key has %d bytes, at least %d are needed", path, len(key), minKeyBytes)
	}
	return key, nil
}

// dbFlag is --db: a file path or a DSN, which may hold a password that --help must not print (its default
// comes from ASPGATE_DB).
type dbFlag struct{ p *string }

func (f dbFlag) String() string {
	if f.p == nil {
		return ""
	}
	if u, err := url.Parse(*f.p); err == nil && u.User != nil {
		return u.Redacted()
	}
	return *f.p
}

func (f dbFlag) Set(v string) error {
	*f.p = v
	return nil
}
