SELECT E'a\'b', $$x$$, $t$y$t$, "q""x", 1_000, .5e-3, $1 /* a /* nested */ c */ -- end
FROM t WHERE a->>'k' <> 2::int;
