package projections

import (
	"testing"

	"github.com/dxledger/dxledger/eventstore"
	"github.com/dxledger/dxledger/internal/pgtest"
	"github.com/dxledger/dxledger/internal/pjtest"
	"github.com/dxledger/dxledger/projections/projector"
	"github.com/jackc/pgx/v5/pgxpool"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var day = pjtest.Day

// newRunner returns a runner that follows ps.
func newRunner(t *testing.T, pool *pgxpool.Pool, store *eventstore.Store, ps ...projector.Projection) *projector.Runner {
	t.Helper()
	r, err := projector.NewRunner(projector.RunnerConfig{Pool: pool, Store: store, Projections: ps})
	if err != nil {
		t.Fatal(err)
	}
	return r
}
