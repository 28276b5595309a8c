package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strconv"
	"strings"
)

// target is a file's decision functions and the unit tests that guard them.
type target struct {
	pkg   string   // go test package, e.g. ./db
	file  string   // path from the module root
	funcs []string // "Name" or "Recv.Name"
	run   string   // go test -run pattern: fast tests only, no database
}

// swaps are the operator mutations: each operator becomes its neighbour.
var swaps = map[token.Token]token.Token{
	token.LSS: token.LEQ, token.LEQ: token.LSS, token.GTR: token.GEQ, token.GEQ: token.GTR,
	token.EQL: token.NEQ, token.NEQ: token.EQL, token.LAND: token.LOR, token.LOR: token.LAND,
	token.ADD: token.SUB, token.SUB: token.ADD, token.MUL: token.QUO, token.QUO: token.MUL,
}

// generate lists the mutants of t's functions.
func generate(t target) ([]mutant, error) {
	src, err := os.ReadFile(t.file)
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, t.file, src, 0)
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, name := range t.funcs {
		want[name] = true
	}
	var out []mutant
	for _, decl := range f.Decls {
		fn, ok := decl.(*ast.FuncDecl)
		if !ok || fn.Body == nil || !want[funcName(fn)] {
			continue
		}
		delete(want, funcName(fn))
		ast.Inspect(fn.Body, func(n ast.Node) bool {
			out = append(out, mutantsOf(n, fset, src, t, funcName(fn))...)
			return true
		})
	}
	for name := range want {
		return nil, fmt.Errorf("%s: no function %s (update scripts/mutate/targets.go)", t.file, name)
	}
	return out, nil
}

// mutantsOf returns the mutants of one node.
func mutantsOf(n ast.Node, fset *token.FileSet, src []byte, t target, fn string) []mutant {
	at := func(pos token.Pos) int { return fset.Position(pos).Offset }
	mk := func(offset int, old, new string) mutant {
		return mutant{pkg: t.pkg, file: t.file, offset: offset, old: old, new: new, run: t.run, what: fn}
	}
	switch e := n.(type) {
	case *ast.BinaryExpr:
		if to, ok := swaps[e.Op]; ok && !isStringConcat(e) {
			return []mutant{mk(at(e.OpPos), e.Op.String(), to.String())}
		}
	case *ast.UnaryExpr:
		if e.Op == token.NOT {
			return []mutant{mk(at(e.OpPos), "!", "")}
		}
	case *ast.BasicLit:
		if e.Kind == token.INT {
			if v, err := strconv.ParseInt(strings.ReplaceAll(e.Value, "_", ""), 0, 64); err == nil {
				return []mutant{mk(at(e.Pos()), e.Value, strconv.FormatInt(v+1, 10))}
			}
		}
	case *ast.ReturnStmt:
		var out []mutant
		for _, r := range e.Results {
			if id, ok := r.(*ast.Ident); ok && (id.Name == "true" || id.Name == "false") {
				flip := map[string]string{"true": "false", "false": "true"}[id.Name]
				out = append(out, mk(at(id.Pos()), id.Name, flip))
			}
		}
		return out
	}
	_ = src
	return nil
}

// isStringConcat tells a + of strings (not worth mutating: it only changes a message) by
// its literal operands.
func isStringConcat(e *ast.BinaryExpr) bool {
	if e.Op != token.ADD {
		return false
	}
	for _, side := range []ast.Expr{e.X, e.Y} {
		if lit, ok := side.(*ast.BasicLit); ok && lit.Kind == token.STRING {
			return true
		}
	}
	return false
}

// funcName is "Name", or "Recv.Name" for a method.
func funcName(fn *ast.FuncDecl) string {
	if fn.Recv == nil || len(fn.Recv.List) == 0 {
		return fn.Name.Name
	}
	t := fn.Recv.List[0].Type
	if star, ok := t.(*ast.StarExpr); ok {
		t = star.X
	}
	if id, ok := t.(*ast.Ident); ok {
		return id.Name + "." + fn.Name.Name
	}
	return fn.Name.Name
}
