package workflows

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/dxledger/dxledger/domain/fault"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/dxledger/dxledger/domain/civil"
	"github.com/dxledger/dxledger/domain/item"
	"github.com/dxledger/dxledger/domain/role"
	"github.com/dxledger/dxledger/eventstore"
	"github.com/dxledger/dxledger/workflows/definition"
)

// Item actions, as the workflow definition names them.
const (
	ActPropose        = "propose"
	ActRequestFunding = "request_funding"
	ActEndorse        = "endorse_funding"
	ActApprove        = "approve_funding"
	ActReject         = "reject_funding"
	ActDisburse       = "disburse"
	ActProgress       = "report_progress"
	ActImplemented    = "mark_implemented"
	ActEvaluate       = "evaluate"
	ActSuspend        = "suspend"
	ActResume         = "resume"
	ActCancel         = "cancel"
	ActSameAs         = "mark_same_as"
	ActOwnFunding     = "arrange_own_funding"
	ActAdoptVersion   = "adopt_version"
)

// StreamID is the stream of item id of kind k.
func StreamID(k item.Kind, id string) string { return string(k) + "-" + id }

// Item is an item's current state with its stream version.
type Item struct {
	item.State
	Version int64
	// requested is when the store recorded each funding request (recorded time, not its
	// business date), for the separation of duties (duties.go): newest first, a list whose
	// nodes never change, so that states remembered by the cache share it safely and a new
	// request costs one node, not a copy.
	requested *requestRecorded
}

type requestRecorded struct {
	id   string
	at   time.Time
	prev *requestRecorded
}

// LoadItem reads an item's stream and folds it. An unknown item is ErrNotFound.
//
// With the state cache (statecache.go) it reads only the events after the state remembered
// for the stream, starting at that state's last event to check that the database still holds
// it; otherwise, or when it does not, the whole stream.
func (h *Handler) LoadItem(ctx context.Context, k item.Kind, id string) (Item, error) {
	stream := StreamID(k, id)
	if c, ok := h.states.get(stream); ok {
		recs, err := h.cfg.Store.ReadStream(ctx, stream, c.version-1)
		if err != nil {
			return Item{}, err
		}
		if len(recs) > 0 && recs[0].Version == c.version && recs[0].ID == c.last {
			h.states.hits.Add(1)
			return h.fold(k, id, stream, c.item, recs[1:])
		}
		// The database does not hold the remembered event at its place: read it all again.
		h.states.stale.Add(1)
		h.states.drop(stream)
	}
	if h.states != nil {
		h.states.misses.Add(1)
	}
	recs, err := h.cfg.Store.ReadStream(ctx, stream, 0)
	if err != nil {
		return Item{}, err
	}
	return h.fold(k, id, stream, Item{}, recs)
}

// fold applies recs (the stream's events after it.Version, in order) to it, remembers the
// result and returns it.
func (h *Handler) fold(k item.Kind, id, stream string, it Item, recs []eventstore.Record) (Item, error) {
	return h.foldAs(k, id, stream, it, recs, nil)
}

// foldAs is fold, remembering head as the hash of the last of recs (nil: not known).
func (h *Handler) foldAs(k item.Kind, id, stream string, it Item, recs []eventstore.Record, head []byte) (Item, error) {
	s := it.State
	for _, r := range recs {
		if r.Version != it.Version+1 {
			return Item{}, fmt.Errorf("read %s: version %d after %d", stream, r.Version, it.Version)
		}
		e, err := item.Decode(r.Type, r.Data, civil.Of(r.Metadata.OccurredOn))
		if err != nil {
			// The store holds an event of this item that this version cannot read (a bug, a
			// future event type): nothing can be decided on a history read in part, and
			// the caller is told so, not given a 500.
			return Item{}, fault.Wrap(fault.Conflict, "workflows.unreadable_history",
				fmt.Errorf("the history of %s holds event %d (%s) that this server cannot read; an administrator must look at it: %w",
					r.StreamID, r.Version, r.Type, err))
		}
		if fr, ok := e.(*item.FundingRequested); ok {
			it.requested = &requestRecorded{id: fr.RequestID, at: r.Metadata.RecordedAt, prev: it.requested}
		}
		s = item.Evolve(s, e)
		it.Version = r.Version
	}
	it.State = s
	if !s.Exists() || s.Kind != k {
		return Item{}, fmt.Errorf("%s %s: %w", k, id, ErrNotFound)
	}
	if len(recs) > 0 {
		last := recs[len(recs)-1]
		h.states.put(cached{stream: stream, item: it, last: last.ID, version: last.Version, head: head})
	}
	return it, nil
}

// Propose registers a new model or project. The id, the initial stage and the workflow
// version are filled here.
func (h *Handler) Propose(ctx context.Context, a Actor, c item.Propose, o Options) (Result, error) {
	if res, found, err := h.previous(ctx, "", a, o); found || err != nil {
		return Result{ID: idOf(c.Kind, res.StreamID), Version: res.ToVersion, Duplicate: true}, err
	}
	def := h.cfg.Definitions.Current()
	to, err := def.Allowed(ActPropose, "", a.Role)
	if err != nil {
		return Result{}, refusal(a, ActPropose, err)
	}
	if err := h.checkProposer(ctx, a, c.UnitCode); err != nil {
		return Result{}, err
	}
	if on := c.On; !on.IsZero() && !on.After(h.Today()) {
		err = h.checkUnitActive(ctx, c.UnitCode, on) // the unit as of the item's business date
	} else {
		err = h.checkUnitActive(ctx, c.UnitCode, h.Today())
	}
	if err != nil {
		return Result{}, err
	}
	if !slices.Contains(h.sectors(), c.Sector) {
		return Result{}, item.Invalid{{Field: "sector", Code: "workflows.unknown_sector", Message: "unknown sector code"}}
	}
	if c.Kind == item.Project && c.ModelID != "" {
		if _, err := h.LoadItem(ctx, item.Model, c.ModelID); err != nil {
			if errors.Is(err, ErrNotFound) {
				return Result{}, item.Invalid{{Field: "model_id", Code: "workflows.no_such_model", Message: "no such model"}}
			}
			return Result{}, err
		}
	}
	c.ID, c.Stage, c.WorkflowVersion = newID(), item.Stage(to), def.Version
	c.Today, c.Actor = h.Today(), a.UserID
	events, err := item.Decide(item.State{}, &c)
	if err != nil {
		return Result{}, err
	}
	res, encoded, err := h.appendItem(ctx, a, c.Kind, c.ID, eventstore.NoStream, events, o, nil)
	if err != nil {
		return Result{}, err
	}
	if !res.Duplicate {
		h.remember(c.Kind, c.ID, res.StreamID, Item{}, res, encoded)
	}
	return Result{ID: idOf(c.Kind, res.StreamID), Version: res.ToVersion, Created: !res.Duplicate, Duplicate: res.Duplicate,
		Position: positionOf(res)}, nil
}

func idOf(k item.Kind, stream string) string {
	if len(stream) > len(k)+1 {
		return stream[len(k)+1:]
	}
	return ""
}

func (h *Handler) sectors() []string {
	if len(h.cfg.Sectors) > 0 {
		return h.cfg.Sectors
	}
	return item.DefaultSectors
}

// Act runs one action on an existing item: load, authorise, check the transition against the
// item's own workflow version, decide, append with the version read. When it loses a race it
// reloads and decides again (a few times), unless the caller pinned the version (If-Match).
//
// cmd is the command with the caller's fields; Meta, the stage the definition leads to and the
// guard thresholds are filled here.
func (h *Handler) Act(ctx context.Context, a Actor, k item.Kind, id, action string, cmd item.Command, o Options) (Result, error) {
	act := func() (Result, error) {
		return h.run(ctx, a, k, id, o, func(it Item) ([]item.Event, error) { return h.decide(ctx, a, it, action, cmd) })
	}
	if _, ok := cmd.(*item.MarkSameAs); ok {
		return alone(ctx, &h.sameAsMu, h.cfg.SameAsLock, act)
	}
	return act()
}

// run is the write loop every item command goes through: answer a retried request from the
// store, load, check If-Match, decide, append with the version read, and on a lost race load
// and decide again (a few times) unless the caller pinned the version.
func (h *Handler) run(ctx context.Context, a Actor, k item.Kind, id string, o Options, decide func(Item) ([]item.Event, error)) (Result, error) {
	stream := StreamID(k, id)
	if res, found, err := h.previous(ctx, stream, a, o); found || err != nil {
		return h.answer(ctx, k, id, res, true, err)
	}
	trust := true // a state remembered after this process's own append may be decided on unread
	for attempt := 1; ; {
		var (
			it   Item
			head []byte // set: it is such a state, and the append must chain on this head
		)
		if c, ok := h.states.get(stream); ok && trust && c.head != nil && (o.IfMatch == nil || *o.IfMatch == c.version) {
			it, head = c.item, c.head
		} else {
			var err error
			if it, err = h.LoadItem(ctx, k, id); err != nil {
				return Result{}, err
			}
		}
		if err := CheckIfMatch(o, stream, it.Version); err != nil {
			return Result{}, err
		}
		events, err := decide(it)
		if head != nil && (err != nil || len(events) == 0) {
			// A refusal, or nothing to do, is answered only from what the database holds.
			trust = false
			continue
		}
		if err != nil {
			return Result{}, err
		}
		if len(events) == 0 { // nothing new: the command was already satisfied
			return Result{ID: id, Version: it.Version}, nil
		}
		res, encoded, err := h.appendItem(ctx, a, k, id, it.Version, events, o, head)
		if errors.Is(err, eventstore.ErrConflict) {
			h.states.drop(stream) // another writer was first: the next load reads it all
			if head != nil {
				// The remembered state was not the database's head: decide again on a read
				// (If-Match is then checked against the version read).
				trust = false
				continue
			}
			if o.IfMatch == nil && attempt < h.cfg.Retries {
				// Writers racing on one item would collide again at once: wait a random
				// moment, longer each time, before deciding again.
				select {
				case <-ctx.Done():
					return Result{}, ctx.Err()
				case <-time.After(time.Duration(rand.Int64N(int64(attempt) * int64(2*time.Millisecond)))):
				}
				attempt++
				continue
			}
		}
		if err != nil {
			return Result{}, err
		}
		if !res.Duplicate {
			if head != nil {
				h.states.unread.Add(1)
			}
			h.remember(k, id, stream, it, res, encoded)
			// The answer is in the events just decided; only a retried request reads it back.
			out := Result{ID: id, Version: res.ToVersion, Position: positionOf(res)}
			for _, e := range events {
				if fr, ok := e.(*item.FundingRequested); ok {
					out.RequestID = fr.RequestID
				}
			}
			return out, nil
		}
		return h.answer(ctx, k, id, res, true, nil)
	}
}

// remember folds the events this process has just appended to stream onto it, the state they
// were decided on, as a read would give them back (the store's ids, versions and recorded
// time), and remembers the result with the stream's new head hash: the next command on the
// item, and the deadline manager woken by these events, need not read them.
func (h *Handler) remember(k item.Kind, id, stream string, it Item, res eventstore.Result, encoded []eventstore.Event) {
	if h.states == nil || len(res.Head) == 0 || len(res.EventIDs) != len(encoded) || res.FromVersion != it.Version+1 {
		return
	}
	recs := make([]eventstore.Record, len(encoded))
	for i, e := range encoded {
		m := e.Metadata
		m.RecordedAt = res.RecordedAt
		if m.OccurredOn.IsZero() { // the store's default: the recording day (UTC)
			y, mo, d := res.RecordedAt.UTC().Date()
			m.OccurredOn = time.Date(y, mo, d, 0, 0, 0, 0, time.UTC)
		}
		recs[i] = eventstore.Record{ID: res.EventIDs[i], StreamID: stream, Version: res.FromVersion + int64(i), Type: e.Type,
			Data: e.Data, Metadata: m}
	}
	if _, err := h.foldAs(k, id, stream, it, recs, res.Head); err != nil {
		h.states.drop(stream)
	}
}

// answer builds the result of a write answered from an earlier one, reading back the funding
// request id a retried request_funding created the first time.
func (h *Handler) answer(ctx context.Context, k item.Kind, id string, res eventstore.Result, dup bool, err error) (Result, error) {
	if err != nil {
		return Result{}, err
	}
	out := Result{ID: id, Version: res.ToVersion, Duplicate: dup, Position: positionOf(res)}
	recs, err := h.cfg.Store.ReadStream(ctx, StreamID(k, id), res.FromVersion-1)
	if err != nil {
		return Result{}, err
	}
	for _, r := range recs {
		if r.Version > res.ToVersion {
			break
		}
		if e, err := item.Decode(r.Type, r.Data, civil.Of(r.Metadata.OccurredOn)); err == nil {
			if fr, ok := e.(*item.FundingRequested); ok {
				out.RequestID = fr.RequestID
			}
		}
	}
	return out, nil
}

// decide authorises the action and asks the domain.
func (h *Handler) decide(ctx context.Context, a Actor, it Item, action string, cmd item.Command) ([]item.Event, error) {
	def, err := definitionFor(h.cfg.Definitions, it.WorkflowVersion)
	if err != nil {
		return nil, err
	}
	// Who may act comes before what the stage allows: another unit's focal point is refused
	// (403) without learning anything of the item's stage.
	to, err := def.Allowed(action, string(it.Stage), a.Role)
	var roleErr *definition.RoleError
	if errors.As(err, &roleErr) {
		return nil, refusal(a, action, err)
	}
	if a.Role == role.FocalPoint {
		if err := h.checkOwnUnit(ctx, a, it.UnitCode, it.ID); err != nil {
			return nil, &ForbiddenError{Role: a.Role, Action: action, Reason: err.Error()}
		}
	}
	if err != nil {
		return nil, err
	}
	meta := item.Meta{Today: h.Today(), Actor: a.UserID}
	act, _ := def.Action(action)
	switch c := cmd.(type) {
	case *item.RequestFunding:
		c.Meta, c.RequestID = withMeta(c.Meta, meta), newID()
		if err := checkSourceLive(string(c.Source), cmp.Or(c.On, meta.Today), c.Year); err != nil {
			return nil, err
		}
	case *item.EndorseFunding:
		c.Meta = withMeta(c.Meta, meta)
	case *item.DecideFunding:
		c.Meta, c.To = withMeta(c.Meta, meta), item.Stage(to)
		if slices.Contains(act.Guards, definition.GuardEndorsementRequired) && def.Guards.EndorsementRequired != nil {
			c.EndorsementAbove = def.Guards.EndorsementRequired.AboveVND
		}
		if slices.Contains(act.Guards, definition.GuardTwoOfficers) && def.Guards.TwoOfficers != nil {
			c.TwoOfficersAbove = def.Guards.TwoOfficers.AboveVND
		}
	case *item.Disburse:
		c.Meta = withMeta(c.Meta, meta)
	case *item.ReportProgress:
		c.Meta = withMeta(c.Meta, meta)
	case *item.MarkImplemented:
		c.Meta, c.To = withMeta(c.Meta, meta), item.Stage(to)
	case *item.Evaluate:
		c.Meta, c.To = withMeta(c.Meta, meta), item.Stage(to)
	case *item.Suspend:
		c.Meta, c.To = withMeta(c.Meta, meta), item.Stage(to)
	case *item.Resume:
		c.Meta = withMeta(c.Meta, meta) // back to the stage it was suspended from
	case *item.Cancel:
		c.Meta, c.To = withMeta(c.Meta, meta), item.Stage(to)
	case *item.ArrangeOwnFunding:
		c.Meta, c.To = withMeta(c.Meta, meta), item.Stage(to)
	case *item.MarkSameAs:
		c.Meta = withMeta(c.Meta, meta)
		if c.ModelID != "" && c.ModelID != it.ID {
			target, err := h.LoadItem(ctx, item.Model, c.ModelID)
			if errors.Is(err, ErrNotFound) {
				return nil, item.Invalid{{Field: "model_id", Code: "workflows.no_such_model", Message: "no such model"}}
			}
			if err != nil {
				return nil, err
			}
			if err := h.refuseLoop(ctx, it.ID, target); err != nil {
				return nil, err
			}
		}
	case *item.UnmarkSameAs:
		c.Meta = withMeta(c.Meta, meta) // the same act as marking, undone: the same rights
	case *item.FlagNoProgress:
		c.Meta = withMeta(c.Meta, meta)
	case *item.MarkOverdue:
		c.Meta = withMeta(c.Meta, meta)
	default:
		return nil, fmt.Errorf("workflows: no rules for %T", cmd)
	}
	if err := h.separateDuties(ctx, a, it, cmd); err != nil { // DESIGN.md invariant 15 (duties.go)
		return nil, err
	}
	return item.Decide(it.State, cmd)
}

// AdoptVersion moves an item in flight to a newer version of the workflow definition, one that
// mends the version the item lives under (definition.Definition.Mends): the rule of
// workflows/definition/version2.yaml. Who may do it, and from which stages, is the newer
// version's action adopt_version. The move is an event on the item's stream
// (item.WorkflowVersionChanged), with its actor, business date and note; the item keeps its
// stage, money and history.
func (h *Handler) AdoptVersion(ctx context.Context, a Actor, k item.Kind, id string, c item.ChangeWorkflowVersion, o Options) (Result, error) {
	return h.run(ctx, a, k, id, o, func(it Item) ([]item.Event, error) {
		target, ok := h.cfg.Definitions.Get(c.To)
		if !ok {
			return nil, item.Invalid{{Field: "version", Code: "workflows.no_such_version", Message: "no workflow definition of this version is loaded"}}
		}
		if _, err := target.Allowed(ActAdoptVersion, string(it.Stage), a.Role); err != nil {
			var unknown *definition.UnknownActionError
			if !errors.As(err, &unknown) {
				return nil, refusal(a, ActAdoptVersion, err)
			}
		}
		if a.Role == role.FocalPoint {
			if err := h.checkOwnUnit(ctx, a, it.UnitCode, it.ID); err != nil {
				return nil, &ForbiddenError{Role: a.Role, Action: ActAdoptVersion, Reason: err.Error()}
			}
		}
		if c.To > it.WorkflowVersion && !slices.Contains(target.Mends, it.WorkflowVersion) {
			return nil, item.Invalid{{Field: "version", Code: "workflows.does_not_mend",
				Message: fmt.Sprintf("version %d does not mend version %d, which the item lives under: the item keeps its rules", c.To, it.WorkflowVersion)}}
		}
		c.Meta = withMeta(c.Meta, item.Meta{Today: h.Today(), Actor: a.UserID})
		return item.Decide(it.State, &c)
	})
}

// Mending returns the newest loaded version that mends version v and lets r move an item in
// stage to it, or 0.
func (h *Handler) Mending(v int, stage item.Stage, r role.Role) int {
	best := 0
	for _, n := range h.cfg.Definitions.Versions() {
		d, _ := h.cfg.Definitions.Get(n)
		if n > v && slices.Contains(d.Mends, v) {
			if _, err := d.Allowed(ActAdoptVersion, string(stage), r); err == nil {
				best = n
			}
		}
	}
	return best
}

// refuseLoop follows the same-as markings from target: reaching id means the marking id → target
// would close a loop.
func (h *Handler) refuseLoop(ctx context.Context, id string, target Item) error {
	seen := map[string]bool{target.ID: true}
	for next := target.SameAs; next != ""; {
		if next == id {
			return ErrSameAsLoop
		}
		if seen[next] { // a loop already stored (from before this check): not ours to close
			return nil
		}
		seen[next] = true
		m, err := h.LoadItem(ctx, item.Model, next)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		next = m.SameAs
	}
	return nil
}

// withMeta keeps the caller's business date and fills the rest.
func withMeta(caller, filled item.Meta) item.Meta {
	filled.On = caller.On
	return filled
}

// refusal turns the definition's answer into the handler's errors.
func refusal(a Actor, action string, err error) error {
	var roleErr *definition.RoleError
	if errors.As(err, &roleErr) {
		return &ForbiddenError{Role: a.Role, Action: action, Reason: "the workflow definition does not let this role take this action"}
	}
	return err
}

func (h *Handler) appendItem(ctx context.Context, a Actor, k item.Kind, id string, expected int64, events []item.Event, o Options, head []byte) (eventstore.Result, []eventstore.Event, error) {
	out := make([]eventstore.Event, len(events))
	for i, e := range events {
		typ, data, err := item.Encode(k, e)
		if err != nil {
			return eventstore.Result{}, nil, err
		}
		out[i] = eventstore.Event{Type: typ, Data: data, Metadata: metadata(a, e.Date(), h.cfg.Location)}
	}
	var extra []eventstore.AppendOption
	if head != nil {
		extra = append(extra, eventstore.ChainedOn(head))
	}
	res, err := h.appendTo(ctx, a, o, StreamID(k, id), expected, out, extra...)
	return res, out, err
}

// EventView is one stored event of a stream, for display.
type EventView struct {
	ID         string          `json:"id"`
	Type       string          `json:"type"`
	Version    int64           `json:"version"`
	OccurredOn civil.Date      `json:"occurred_on"`
	RecordedAt time.Time       `json:"recorded_at"`
	Actor      string          `json:"actor"`
	Role       string          `json:"role,omitempty"`
	Unit       string          `json:"unit,omitempty"`
	RequestID  string          `json:"request_id,omitempty"`
	Data       json.RawMessage `json:"data"`
}

// ItemEvents returns an item's events in stream order.
func (h *Handler) ItemEvents(ctx context.Context, k item.Kind, id string) ([]EventView, error) {
	recs, err := h.cfg.Store.ReadStream(ctx, StreamID(k, id), 0)
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("%s %s: %w", k, id, ErrNotFound)
	}
	out := make([]EventView, len(recs))
	for i, r := range recs {
		m := r.Metadata
		out[i] = EventView{ID: r.ID.String(), Type: r.Type, Version: r.Version, OccurredOn: civil.Of(m.OccurredOn),
			RecordedAt: m.RecordedAt.In(h.cfg.Location), Actor: m.Actor, Role: m.Role, Unit: m.Unit, RequestID: m.RequestID,
			Data: json.RawMessage(r.Data)}
	}
	return out, nil
}

// Permitted returns the actions a may take on it now, by the item's own workflow definition:
// the role, the stage and, for a focal point, the unit. Guards and amounts are checked when
// the action is taken. The pages use it to show only the forms that can succeed.
func (h *Handler) Permitted(ctx context.Context, a Actor, it Item) ([]string, error) {
	def, err := definitionFor(h.cfg.Definitions, it.WorkflowVersion)
	if err != nil {
		return nil, err
	}
	if a.Role == role.FocalPoint {
		if err := h.checkOwnUnit(ctx, a, it.UnitCode, it.ID); err != nil {
			return nil, nil
		}
	}
	var out []string
	for _, act := range def.Actions {
		if act.Name == definition.Propose {
			continue
		}
		if act.Name == definition.AdoptVersion {
			continue // an item moves to another version by that version's rules (below)
		}
		if _, err := def.Allowed(act.Name, string(it.Stage), a.Role); err == nil {
			out = append(out, act.Name)
		}
	}
	if h.Mending(it.WorkflowVersion, it.Stage, a.Role) > 0 {
		out = append(out, ActAdoptVersion)
	}
	return out, nil
}
