package bison

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// envelope is Laravel's paginated resource, decoded in one pass. Pointers tell "absent" from
// "zero"; a nil Data means `data` was absent or null.
type envelope struct {
	Data  []Account `json:"data"`
	Links *struct {
		Next *string `json:"next"`
	} `json:"links"`
	Meta *struct {
		CurrentPage *int `json:"current_page"`
		LastPage    *int `json:"last_page"`
		PerPage     any  `json:"per_page"` // Laravel sends a number, sometimes a string
		Total       *int `json:"total"`
	} `json:"meta"`
}

// parsePage decodes a page body into a Page, checking only that the envelope is there.
func parsePage(body []byte) (*Page, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, errors.New("empty body")
	}
	if trimmed[0] != '{' {
		return nil, errors.New("body is not a JSON object")
	}
	var env envelope
	if err := json.Unmarshal(trimmed, &env); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field == "data" {
			return nil, errors.New(`"data" is not a list`)
		}
		return nil, fmt.Errorf("not the JSON envelope: %w", err)
	}
	if env.Data == nil {
		return nil, errors.New(`"data" is missing or null`)
	}
	if env.Meta == nil || env.Meta.LastPage == nil || env.Meta.Total == nil || env.Meta.CurrentPage == nil {
		return nil, errors.New(`"meta" lacks current_page, last_page or total`)
	}
	p := &Page{Accounts: env.Data, CurrentPage: *env.Meta.CurrentPage, LastPage: *env.Meta.LastPage, Total: *env.Meta.Total, PerPage: PageSize}
	if n, ok := env.Meta.PerPage.(float64); ok {
		p.PerPage = int(n)
	}
	if env.Links != nil && env.Links.Next != nil {
		p.Next = *env.Links.Next
	}
	return p, nil
}

// parseAccount decodes {"data": {...}}.
func parseAccount(body []byte) (*Account, error) {
	var env struct {
		Data *Account `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	if env.Data == nil {
		return nil, errors.New("no data object")
	}
	return env.Data, nil
}
