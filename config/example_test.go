package config_test

import (
	"fmt"
	"log"

	"github.com/dxledger/dxledger/config"
	"github.com/spf13/pflag"
)

// Load reads testdata/dxledger.yaml, then the environment, then the flags the user set.
func ExampleLoad() {
	fs := pflag.NewFlagSet("dxledger", pflag.ContinueOnError)
	config.RegisterFlags(fs)
	if err := fs.Parse([]string{"--config", "testdata/dxledger.yaml", "--log-level", "debug"}); err != nil {
		log.Fatal(err)
	}
	cfg, err := config.Load(config.Sources{
		Environ: []string{"DXLEDGER_DB_MAX_CONNS=50", "HOME=/home/dx"}, // os.Environ() in main
		Flags:   fs,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cfg.HTTPAddr, cfg.DataDir, cfg.Location, cfg.ShutdownTimeout)
	fmt.Println(cfg.LogLevel, cfg.SlogLevel(), cfg.LogFormat, cfg.DBMaxConns)
	// Output:
	// 0.0.0.0:8080 /var/lib/dxledger Asia/Ho_Chi_Minh 30s
	// debug DEBUG json 50
}

// Validate reports every bad value at once, naming each key and its variable.
func ExampleConfig_Validate() {
	cfg := config.Default()
	cfg.LogFormat = "xml"
	cfg.DBMaxConns = 0
	fmt.Println(cfg.Validate())
	// Output:
	// log_format (DXLEDGER_LOG_FORMAT): "xml" is not one of text, json
	// db_max_conns (DXLEDGER_DB_MAX_CONNS): 0 is not from 1 to 1000
}
