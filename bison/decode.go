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

// DecodePage parses a page body. Any body that is not the envelope (HTML, truncated JSON,
// `data` that is not a list, missing paging facts, impossible numbers) is an error: a page that
// cannot be trusted must not count towards a complete list.
func DecodePage(body []byte) (*Page, error) {
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
	if p.Total < 0 || p.LastPage < 0 || p.CurrentPage < 0 {
		return nil, fmt.Errorf("negative paging facts (current_page %d, last_page %d, total %d)", p.CurrentPage, p.LastPage, p.Total)
	}
	if len(p.Accounts) > PageSize {
		return nil, fmt.Errorf("%d rows on one page, more than the %d the API serves", len(p.Accounts), PageSize)
	}
	for i, a := range p.Accounts {
		if a.ID <= 0 {
			return nil, fmt.Errorf("row %d has no account id", i+1)
		}
	}
	return p, nil
}
