package randmodel

import (
	"slices"
	"time"
)

// Reduce shrinks f greedily while it keeps failing. fails is given a batch
// of candidates, each a one-step simplification of the current file (a
// statement, fn, declaration or argument dropped, an expression replaced
// by an operand or a constant, a loop unwrapped or shortened, a dimension
// shrunk), and returns the index of the first that still fails the same
// way, or -1; candidates need not be valid models, so fails must check
// them. Reduce stops at a file no candidate improves, or at deadline.
func Reduce(f *File, batch int, deadline time.Time, fails func([]*File) int) *File {
	cur := clone(f)
	for time.Now().Before(deadline) {
		cands := candidates(cur)
		next := -1
		var chunk []*File
		for i := 0; i < len(cands) && next < 0 && time.Now().Before(deadline); i += batch {
			chunk = cands[i:min(i+batch, len(cands))]
			next = fails(chunk)
		}
		if next < 0 {
			break
		}
		cur = chunk[next]
	}
	return cur
}

// candidates lists the one-step simplifications of f, the biggest first.
func candidates(f *File) []*File {
	var out []*File
	if !f.Plain {
		c := clone(f)
		c.Plain = true
		out = append(out, c)
	}
	for i := range f.Fns {
		c := clone(f)
		c.Fns = slices.Delete(c.Fns, i, i+1)
		if i < len(c.FnFirst) {
			c.FnFirst = slices.Delete(c.FnFirst, i, i+1)
		}
		out = append(out, c)
	}
	// Statements: drop one, or unwrap a loop into its body.
	for k := 0; ; k++ {
		c := clone(f)
		if !editStmt(c, k, false) {
			break
		}
		out = append(out, c)
	}
	for k := 0; ; k++ {
		c := clone(f)
		if !editStmt(c, k, true) {
			break
		}
		out = append(out, c)
	}
	for i := range f.Decls {
		c := clone(f)
		c.Decls = slices.Delete(c.Decls, i, i+1)
		out = append(out, c)
	}
	for i, fn := range f.Fns {
		for j := range fn.Args {
			c := clone(f)
			dropArg(c, i, j)
			out = append(out, c)
		}
	}
	if len(f.Consts) > 0 {
		c := clone(f)
		inlineConsts(c)
		out = append(out, c)
	}
	// Expressions: replace one by an operand or a constant.
	for k := 0; ; k++ {
		c := clone(f)
		exists, ok := editExpr(c, k, 0)
		if !exists {
			break
		}
		for alt := 1; ok; alt++ {
			out = append(out, c)
			c = clone(f)
			_, ok = editExpr(c, k, alt)
		}
	}
	// Sizes: loops and dimensions.
	for k := 0; ; k++ {
		c := clone(f)
		if !editSize(c, k) {
			break
		}
		out = append(out, c)
	}
	return out
}

// editStmt drops the k-th statement (in any body), or with unwrap replaces
// the k-th loop by its body. It reports whether there was a k-th.
func editStmt(f *File, k int, unwrap bool) bool {
	n := 0
	var walk func(body *[]Stmt) bool
	walk = func(body *[]Stmt) bool {
		for i := 0; i < len(*body); i++ {
			st := (*body)[i]
			if fr, ok := st.(*For); ok && unwrap {
				if n == k {
					*body = slices.Replace(*body, i, i+1, fr.Body...)
					return true
				}
				n++
			}
			if !unwrap {
				if n == k {
					*body = slices.Delete(*body, i, i+1)
					return true
				}
				n++
			}
			if fr, ok := st.(*For); ok && walk(&fr.Body) {
				return true
			}
		}
		return false
	}
	if walk(&f.Body) {
		return true
	}
	for _, fn := range f.Fns {
		if walk(&fn.Body) {
			return true
		}
	}
	return false
}

func dropArg(f *File, i, j int) {
	fn := f.Fns[i]
	fn.Args = slices.Delete(fn.Args, j, j+1)
	forEachExpr(f, func(e *Expr) {
		if c, ok := (*e).(*Call); ok && c.F == fn.Name && j < len(c.Args) {
			c.Args = slices.Delete(c.Args, j, j+1)
		}
	})
}

func inlineConsts(f *File) {
	f.Consts = nil
	plain := func(d *Dim) { d.Text = "" }
	for _, d := range f.Decls {
		for i := range d.Dims {
			plain(&d.Dims[i])
		}
	}
	for _, fn := range f.Fns {
		for _, a := range fn.Args {
			for i := range a.Dims {
				plain(&a.Dims[i])
			}
		}
	}
	forEachStmt(f, func(st Stmt) {
		if fr, ok := st.(*For); ok {
			plain(&fr.From)
			plain(&fr.To)
		}
	})
	forEachExpr(f, func(e *Expr) {
		if d, ok := (*e).(*DimExpr); ok {
			plain(&d.D)
		}
	})
}

// editExpr replaces the k-th expression (in walk order) by its alt-th
// replacement: its operands, then the constants 1 and 0.5. exists reports
// that there is a k-th expression, ok that it had an alt-th replacement.
func editExpr(f *File, k, alt int) (exists, ok bool) {
	n := 0
	forEachExpr(f, func(e *Expr) {
		if n != k {
			n++
			return
		}
		n++
		exists = true
		var repl []Expr
		switch x := (*e).(type) {
		case *DimExpr:
			return
		case *Num:
			if x.V == 1 || x.V == 0.5 {
				return
			}
		case *Bin:
			repl = []Expr{x.X, x.Y}
		case *Neg:
			repl = []Expr{x.X}
		case *Call:
			repl = slices.Clone(x.Args)
		case *Index:
			repl = []Expr{x.X}
			for i, ix := range x.Idx {
				if ix.Name != "" || ix.V != 0 {
					y := &Index{X: x.X, Idx: slices.Clone(x.Idx)}
					y.Idx[i] = Idx{}
					repl = append(repl, y)
				}
			}
		}
		repl = append(repl, &Num{V: 1}, &Num{V: 0.5})
		if alt < len(repl) {
			*e = repl[alt]
			ok = true
		}
	})
	return exists, ok
}

// editSize shrinks the k-th loop or dimension.
func editSize(f *File, k int) bool {
	n := 0
	done := false
	shrink := func(d *Dim, lo int) {
		if !done && d.V > lo {
			if n == k {
				d.V--
				d.Text = ""
				done = true
			}
			n++
		}
	}
	forEachStmt(f, func(st Stmt) {
		if fr, ok := st.(*For); ok {
			if fr.To.V-fr.From.V > 1 {
				shrink(&fr.To, 0)
			}
			shrink(&fr.From, 0)
		}
	})
	// A dimension of one size everywhere at once, since shapes must agree.
	sizes := map[int]bool{}
	collect := func(d Dim) { sizes[d.V] = true }
	for _, d := range f.Decls {
		for _, x := range d.Dims {
			collect(x)
		}
	}
	var vals []int
	for v := range sizes {
		if v > 1 {
			vals = append(vals, v)
		}
	}
	slices.Sort(vals)
	for _, v := range vals {
		if done {
			break
		}
		if n == k {
			setSize(f, v, v-1)
			done = true
		}
		n++
	}
	return done
}

func setSize(f *File, from, to int) {
	set := func(d *Dim) {
		if d.V == from {
			d.V, d.Text = to, ""
		}
	}
	for _, d := range f.Decls {
		for i := range d.Dims {
			set(&d.Dims[i])
		}
	}
	for _, fn := range f.Fns {
		for _, a := range fn.Args {
			for i := range a.Dims {
				set(&a.Dims[i])
			}
		}
	}
	forEachExpr(f, func(e *Expr) {
		if d, ok := (*e).(*DimExpr); ok {
			set(&d.D)
		}
	})
}

func forEachStmt(f *File, visit func(Stmt)) {
	var walk func([]Stmt)
	walk = func(body []Stmt) {
		for _, st := range body {
			visit(st)
			if fr, ok := st.(*For); ok {
				walk(fr.Body)
			}
		}
	}
	walk(f.Body)
	for _, fn := range f.Fns {
		walk(fn.Body)
	}
}

// forEachExpr calls visit with a pointer to every expression, parents
// before children.
func forEachExpr(f *File, visit func(*Expr)) {
	var walk func(e *Expr)
	walk = func(e *Expr) {
		if *e == nil {
			return
		}
		visit(e)
		switch x := (*e).(type) {
		case *Bin:
			walk(&x.X)
			walk(&x.Y)
		case *Neg:
			walk(&x.X)
		case *Call:
			for i := range x.Args {
				walk(&x.Args[i])
			}
		case *Index:
			walk(&x.X)
		}
	}
	forEachStmt(f, func(st Stmt) {
		switch st := st.(type) {
		case *Assign:
			walk(&st.X)
		case *Output:
			walk(&st.X)
		}
	})
	for _, fn := range f.Fns {
		walk(&fn.Ret)
	}
}

// clone copies f deeply.
func clone(f *File) *File {
	c := *f
	c.Consts = nil
	for _, k := range f.Consts {
		k := *k
		c.Consts = append(c.Consts, &k)
	}
	c.FnFirst = slices.Clone(f.FnFirst)
	c.Decls = nil
	for _, d := range f.Decls {
		c.Decls = append(c.Decls, cloneDecl(d))
	}
	c.Fns = nil
	for _, fn := range f.Fns {
		g := &Fn{Name: fn.Name, Body: cloneStmts(fn.Body), Ret: cloneExpr(fn.Ret)}
		for _, a := range fn.Args {
			g.Args = append(g.Args, cloneDecl(a))
		}
		c.Fns = append(c.Fns, g)
	}
	c.Body = cloneStmts(f.Body)
	return &c
}

func cloneDecl(d *Decl) *Decl {
	c := *d
	c.Dims = slices.Clone(d.Dims)
	return &c
}

func cloneStmts(body []Stmt) []Stmt {
	var out []Stmt
	for _, st := range body {
		switch st := st.(type) {
		case *Assign:
			out = append(out, &Assign{Name: st.Name, Op: st.Op, X: cloneExpr(st.X)})
		case *Output:
			out = append(out, &Output{Name: st.Name, X: cloneExpr(st.X)})
		case *For:
			out = append(out, &For{Var: st.Var, From: st.From, To: st.To, Body: cloneStmts(st.Body)})
		}
	}
	return out
}

func cloneExpr(e Expr) Expr {
	switch x := e.(type) {
	case nil:
		return nil
	case *Num:
		return &Num{V: x.V}
	case *Name:
		return &Name{N: x.N}
	case *DimExpr:
		return &DimExpr{D: x.D}
	case *Neg:
		return &Neg{X: cloneExpr(x.X)}
	case *Bin:
		return &Bin{Op: x.Op, X: cloneExpr(x.X), Y: cloneExpr(x.Y)}
	case *Call:
		c := &Call{F: x.F}
		for _, a := range x.Args {
			c.Args = append(c.Args, cloneExpr(a))
		}
		return c
	case *Index:
		return &Index{X: cloneExpr(x.X), Idx: slices.Clone(x.Idx)}
	}
	panic("randmodel: clone of an unknown expression")
}
