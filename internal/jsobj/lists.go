package jsobj

import (
	"context"
	"fmt"
	"io"
)

// ReadStringLists reads an object of label → list of strings (a group set,
// a value map) from r as it arrives: the body is never held whole, and
// only the strings themselves are kept. A label given twice is an error
// (it would otherwise lose one list silently); null stands for an empty
// list, as encoding/json reads it. ctx is checked as the lists are read,
// so that the work stops when the request is gone.
func ReadStringLists(ctx context.Context, r io.Reader) (map[string][]string, error) {
	d := NewDecoder(r)
	t, err := d.Next()
	if err != nil {
		return nil, err
	}
	if t.Kind != ObjectStart {
		return nil, &SyntaxError{Offset: int(t.Offset), Msg: "expected an object of label → list of strings"}
	}
	out := map[string][]string{}
	for {
		k, err := d.Next()
		if err != nil {
			return nil, err
		}
		if k.Kind == ObjectEnd {
			break
		}
		if _, dup := out[k.Text]; dup {
			return nil, &SyntaxError{Offset: int(k.Offset), Msg: fmt.Sprintf("label %q is given twice", k.Text)}
		}
		list, err := readList(ctx, d, k.Text)
		if err != nil {
			return nil, err
		}
		out[k.Text] = list
	}
	if err := d.End(); err != nil {
		return nil, err
	}
	return out, nil
}

// checkEvery is how many strings are read between looks at the context.
const checkEvery = 4096

func readList(ctx context.Context, d *Decoder, label string) ([]string, error) {
	t, err := d.Next()
	if err != nil {
		return nil, err
	}
	switch t.Kind {
	case Null:
		return []string{}, nil
	case ArrayStart:
	default:
		return nil, &SyntaxError{Offset: int(t.Offset), Msg: fmt.Sprintf("label %q: expected a list of strings", label)}
	}
	list := []string{}
	for {
		t, err := d.Next()
		if err != nil {
			return nil, err
		}
		switch t.Kind {
		case ArrayEnd:
			return list, nil
		case String:
			list = append(list, t.Text)
		default:
			return nil, &SyntaxError{Offset: int(t.Offset), Msg: fmt.Sprintf("label %q: element %d is not a string", label, len(list)+1)}
		}
		if len(list)%checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
	}
}
