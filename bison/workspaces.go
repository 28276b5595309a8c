package bison

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// WorkspaceInfo is one workspace (a "team") as an instance lists it to its super-admin key.
type WorkspaceInfo struct {
	ID   int
	Name string // control characters removed
	// PersonalTeam and Main are the API's flags: the super-admin's own team is usually both.
	PersonalTeam bool
	Main         bool
	// ParentID is the team this one belongs to, 0 when none.
	ParentID  int
	CreatedAt time.Time // zero when the API gave none
	UpdatedAt time.Time
}

// ListWorkspaces lists the instance's workspaces with its super-admin key: how a workspace
// nobody registered is found. It is one request, through the instance's limiter, retried on
// transient errors like a page; a workspace key is refused by the API (an *AuthError).
func (in *Instance) ListWorkspaces(ctx context.Context, key Key) ([]WorkspaceInfo, error) {
	s := in.Session(key, Workspace{}, nil)
	req := s.request("list workspaces")
	body, err := s.do(ctx, req, http.MethodGet, "/workspaces/v1.1", nil)
	if err != nil {
		return nil, err
	}
	defer in.client.releaseBody(body)
	list, err := decodeWorkspaces(body.Bytes())
	if err != nil {
		return nil, &MalformedError{Req: req, Problem: key.scrub(err.Error()), Excerpt: excerpt(body.Bytes(), key)}
	}
	return list, nil
}

// wireWorkspaces is the listing's envelope. Unknown fields are ignored.
type wireWorkspaces struct {
	Data *[]struct {
		ID           *int            `json:"id"`
		Name         string          `json:"name"`
		PersonalTeam flexBool        `json:"personal_team"`
		Main         flexBool        `json:"main"`
		ParentID     *int            `json:"parent_id"`
		CreatedAt    json.RawMessage `json:"created_at"`
		UpdatedAt    json.RawMessage `json:"updated_at"`
	} `json:"data"`
}

// flexBool reads a JSON boolean that PHP may send as 0/1 or null.
type flexBool bool

func (b *flexBool) UnmarshalJSON(p []byte) error {
	switch strings.TrimSpace(string(p)) {
	case "true", "1", `"1"`:
		*b = true
	case "false", "0", `"0"`, "null", `""`:
		*b = false
	default:
		return fmt.Errorf("not a boolean: %.20s", p)
	}
	return nil
}

// decodeWorkspaces reads the listing: {"data": [{"id", "name", ...}]}.
func decodeWorkspaces(body []byte) ([]WorkspaceInfo, error) {
	var env wireWorkspaces
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("workspace list: %w", err)
	}
	if env.Data == nil {
		return nil, errors.New(`workspace list: no "data" list`)
	}
	out := make([]WorkspaceInfo, 0, len(*env.Data))
	for i, w := range *env.Data {
		if w.ID == nil || *w.ID <= 0 {
			return nil, fmt.Errorf("workspace list: entry %d has no id", i)
		}
		name, _ := stripControls(strings.TrimSpace(w.Name))
		info := WorkspaceInfo{ID: *w.ID, Name: name, PersonalTeam: bool(w.PersonalTeam), Main: bool(w.Main),
			CreatedAt: jsonTime(w.CreatedAt), UpdatedAt: jsonTime(w.UpdatedAt)}
		if w.ParentID != nil {
			info.ParentID = *w.ParentID
		}
		out = append(out, info)
	}
	return out, nil
}

// jsonTime reads a JSON timestamp (RFC 3339, as Laravel writes it); anything else is the zero time.
func jsonTime(raw json.RawMessage) time.Time {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

// MintedKey is a workspace key the API created. Key is a secret like any other: it prints as
// its hint. ID and Name identify the token in Email Bison (to revoke it there) and are not
// secret.
type MintedKey struct {
	ID   int
	Name string
	Key  Key
}

// errNotRetried ends a mint request at its first transient failure.
var errNotRetried = errors.New("not retried")

// MintKey creates a key scoped to workspace teamID, named name, with the instance's
// super-admin key. Unlike every other request, a mint that fails transiently (5xx, reset,
// timeout) is not retried: the server may have created the token before failing, and a
// second attempt would leave a credential nobody knows of. A 429 is retried, since it
// was not served.
func (in *Instance) MintKey(ctx context.Context, key Key, teamID int, name string) (MintedKey, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var failed *Retry
	s := in.Session(key, Workspace{ID: teamID}, func(r Retry) {
		if r.Cause != Cause429 {
			failed = &r
			cancel(errNotRetried) // ends the request before another attempt is sent
		}
	})
	req := s.request("mint key")
	payload, _ := json.Marshal(map[string]string{"name": name})
	body, err := s.do(ctx, req, http.MethodPost, fmt.Sprintf("/workspaces/v1.1/%d/api-tokens", teamID), payload)
	if err != nil {
		if failed != nil && errors.Is(context.Cause(ctx), errNotRetried) {
			return MintedKey{}, &TransientError{Req: req, Reason: failed.Reason +
				" (not retried: the key may have been created; see the workspace's API tokens in Email Bison)", Attempts: 1}
		}
		return MintedKey{}, err
	}
	defer func() {
		clear(body.Bytes()) // the body holds the token: leave no copy in the pool
		in.client.releaseBody(body)
	}()
	m, err := decodeMinted(body.Bytes())
	if err != nil {
		// No excerpt: the body may hold the new token, which nothing here could scrub.
		return MintedKey{}, &MalformedError{Req: req, Problem: err.Error()}
	}
	return m, nil
}

// decodeMinted reads {"data": {"id", "name", "plain_text_token"}}. Its errors never quote
// the body.
func decodeMinted(body []byte) (MintedKey, error) {
	var env struct {
		Data *struct {
			ID    int    `json:"id"`
			Name  string `json:"name"`
			Token string `json:"plain_text_token"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return MintedKey{}, errors.New("the answer is not the JSON of a new token")
	}
	if env.Data == nil || strings.TrimSpace(env.Data.Token) == "" {
		return MintedKey{}, errors.New("the answer holds no plain_text_token")
	}
	name, _ := stripControls(env.Data.Name)
	return MintedKey{ID: env.Data.ID, Name: name, Key: NewKey(strings.TrimSpace(env.Data.Token))}, nil
}

// Token returns the token itself. It exists for one use: storing a minted key where the
// registry keeps keys (client_registry.bison_api_key). Never print, log or record it
// anywhere else; Key's every other method shows the hint.
func (k Key) Token() string { return k.token }
