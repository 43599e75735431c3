// Command ferretdb-runner starts an embedded FerretDB (a MongoDB-wire-compatible server) for the
// project's integration tests. It listens on loopback only and keeps its data in a SQLite folder.
//
// It exists because `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2` panics at
// start-up (its version.txt is not in the module zip); embedding the ferretdb package avoids that.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address to listen on (keep it on loopback)")
	sqliteDir := flag.String("sqlite-dir", "", "folder for the SQLite backend (required; created if missing)")
	pgURL := flag.String("postgresql-url", "", "use the PostgreSQL backend with this URL instead of SQLite")
	logLevel := flag.String("log-level", "warn", "debug, info, warn or error")
	flag.Parse()

	if !strings.HasPrefix(*listen, "127.0.0.1:") && !strings.HasPrefix(*listen, "localhost:") {
		fail("refusing to listen on %q: only loopback addresses are allowed", *listen)
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fail("bad -log-level %q: %v", *logLevel, err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	config := ferretdb.Config{Listener: ferretdb.ListenerConfig{TCP: *listen}, Logger: logger}
	switch {
	case *pgURL != "":
		config.Handler = "postgresql"
		config.PostgreSQLURL = *pgURL
	case *sqliteDir != "":
		if err := os.MkdirAll(*sqliteDir, 0o755); err != nil {
			fail("cannot create %q: %v", *sqliteDir, err)
		}
		config.Handler = "sqlite"
		config.SQLiteURL = "file:" + strings.TrimSuffix(*sqliteDir, "/") + "/"
	default:
		fail("either -sqlite-dir or -postgresql-url is required")
	}

	f, err := ferretdb.New(&config)
	if err != nil {
		fail("cannot start FerretDB: %v", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	fmt.Fprintf(os.Stderr, "ferretdb-runner: listening on %s (%s backend)\n", *listen, config.Handler)
	if err := f.Run(ctx); err != nil {
		fail("FerretDB stopped: %v", err)
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "ferretdb-runner: "+format+"\n", args...)
	os.Exit(1)
}
