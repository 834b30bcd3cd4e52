## Reference values for postcart.stats.contingency, .proportions and .ranks.
##
## Run from the project root:   Rscript tests/reference/r/contingency.R
## Writes tests/fixtures/r_contingency.json (deterministic: rerunning gives the same bytes).
## Numbers: integers exactly, everything else with %.17g (round-trips through Python's json);
## NA/NaN/Inf -> null. Each case records the R call that produced it.
##
## Only base R (stats) is needed.

options(warn = 1)

num <- function(x) {
  x <- as.double(x)
  out <- rep("null", length(x))
  ok <- is.finite(x)
  isint <- ok & x == round(x) & abs(x) < 2^53
  out[ok] <- sprintf("%.17g", x[ok])
  out[isint] <- sprintf("%.0f", x[isint])
  out
}
js <- function(x) {
  if (is.null(x)) return("null")
  if (is.list(x)) {
    items <- vapply(x, js, "")
    if (is.null(names(x))) return(paste0("[", paste(items, collapse = ", "), "]"))
    return(paste0("{", paste0("\"", names(x), "\": ", items, collapse = ", "), "}"))
  }
  if (is.matrix(x)) return(js(lapply(seq_len(nrow(x)), function(i) I(unname(x[i, ])))))
  asis <- inherits(x, "AsIs")
  v <- if (is.character(x)) paste0("\"", x, "\"") else if (is.logical(x)) ifelse(x, "true", "false") else num(x)
  if (length(v) == 1 && !asis) v else paste0("[", paste(v, collapse = ", "), "]")
}
deparse1c <- function(e) paste(deparse(e, width.cutoff = 500L), collapse = " ")

## --------------------------------------------------------------------------------------------
## contingency tables
## --------------------------------------------------------------------------------------------
tables <- list(
  tea_2x2 = matrix(c(3, 1, 1, 3), 2, byrow = TRUE),
  moderate_2x2 = matrix(c(12, 5, 7, 15), 2, byrow = TRUE),
  zero_cell_2x2 = matrix(c(0, 5, 6, 2), 2, byrow = TRUE),
  separated_2x2 = matrix(c(20, 0, 0, 20), 2, byrow = TRUE),
  balanced_2x2 = matrix(c(10, 10, 10, 10), 2, byrow = TRUE),
  large_2x2 = matrix(c(45, 105, 30, 120), 2, byrow = TRUE),
  small_2x3 = matrix(c(1, 2, 3, 4, 0, 2), 2, byrow = TRUE),
  small_3x3 = matrix(c(2, 3, 4, 5, 1, 0, 1, 1, 6), 3, byrow = TRUE),
  report_2x6 = matrix(c(10, 12, 8, 15, 20, 9, 14, 9, 16, 11, 12, 14), 2, byrow = TRUE),
  sparse_2x6 = matrix(c(3, 0, 1, 5, 2, 0, 20, 30, 25, 18, 22, 27), 2, byrow = TRUE),
  moderate_3x4 = matrix(c(8, 2, 5, 3, 4, 9, 2, 6, 1, 3, 7, 4), 3, byrow = TRUE),
  moderate_4x4 = matrix(c(5, 3, 2, 6, 2, 7, 4, 1, 3, 3, 8, 2, 6, 1, 2, 5), 4, byrow = TRUE)
)

tight_2x2 <- function(x, conf.level = 0.95) {
  ## conditional MLE and exact CI of the odds ratio as fisher.test computes them, but with
  ## uniroot(tol = 1e-13): fisher.test's own uniroot tolerance is only ~1.2e-4.
  m <- sum(x[, 1L]); n <- sum(x[, 2L]); k <- sum(x[1L, ]); x <- x[1L, 1L]
  lo <- max(0L, k - n); hi <- min(k, m); support <- lo:hi
  logdc <- dhyper(support, m, n, k, log = TRUE)
  dn <- function(ncp) { d <- logdc + log(ncp) * support; d <- exp(d - max(d)); d / sum(d) }
  mn <- function(ncp) if (ncp == 0) lo else if (ncp == Inf) hi else sum(support * dn(ncp))
  pn <- function(q, ncp, upper = FALSE) {
    if (ncp == 0) return(as.numeric(if (upper) q <= lo else q >= lo))
    if (ncp == Inf) return(as.numeric(if (upper) q <= hi else q >= hi))
    sum(dn(ncp)[if (upper) support >= q else support <= q])
  }
  tol <- 1e-13
  mle <- if (x == lo) 0 else if (x == hi) Inf else {
    mu <- mn(1)
    if (mu > x) uniroot(function(t) mn(t) - x, c(0, 1), tol = tol)$root
    else if (mu < x) 1 / uniroot(function(t) mn(1 / t) - x, c(.Machine$double.eps, 1), tol = tol)$root
    else 1
  }
  alpha <- (1 - conf.level) / 2
  up <- if (x == hi) Inf else {
    p <- pn(x, 1)
    if (p < alpha) uniroot(function(t) pn(x, t) - alpha, c(0, 1), tol = tol)$root
    else if (p > alpha) 1 / uniroot(function(t) pn(x, 1 / t) - alpha, c(.Machine$double.eps, 1), tol = tol)$root
    else 1
  }
  low <- if (x == lo) 0 else {
    p <- pn(x, 1, TRUE)
    if (p > alpha) uniroot(function(t) pn(x, t, TRUE) - alpha, c(0, 1), tol = tol)$root
    else if (p < alpha) 1 / uniroot(function(t) pn(x, 1 / t, TRUE) - alpha, c(.Machine$double.eps, 1), tol = tol)$root
    else 1
  }
  list(odds_ratio = mle, ci_low = low, ci_high = up)
}

contingency <- lapply(names(tables), function(nm) {
  x <- tables[[nm]]
  out <- list(name = nm, table = x)
  for (corr in c(FALSE, TRUE)) {
    ct <- suppressWarnings(chisq.test(x, correct = corr))
    out[[if (corr) "chisq_correct" else "chisq"]] <- list(
      call = sprintf("chisq.test(x, correct = %s)", corr),
      statistic = unname(ct$statistic), df = unname(ct$parameter), p = ct$p.value,
      expected = unname(ct$expected), method = ct$method)
  }
  ft <- fisher.test(x, workspace = 2e8)
  out$fisher <- list(call = "fisher.test(x, workspace = 2e8)", p = ft$p.value)
  if (all(dim(x) == 2)) {
    out$fisher$odds_ratio <- unname(ft$estimate)
    out$fisher$ci_low <- ft$conf.int[1]
    out$fisher$ci_high <- ft$conf.int[2]
    out$fisher$tight <- tight_2x2(x)
    out$fisher_less <- list(call = "fisher.test(x, alternative = 'less')",
                            p = fisher.test(x, alternative = "less")$p.value,
                            ci_high = fisher.test(x, alternative = "less")$conf.int[2])
    out$fisher_greater <- list(call = "fisher.test(x, alternative = 'greater')",
                               p = fisher.test(x, alternative = "greater")$p.value,
                               ci_low = fisher.test(x, alternative = "greater")$conf.int[1])
  }
  out
})

## --------------------------------------------------------------------------------------------
## proportions
## --------------------------------------------------------------------------------------------
props <- list(c(0, 10), c(10, 10), c(1, 10), c(5, 10), c(7, 23), c(45, 150), c(0, 1), c(1, 1),
              c(3, 1000), c(999, 1000), c(62, 80))
proportions <- list()
for (kn in props) for (cl in c(0.95, 0.90)) {
  k <- kn[1]; n <- kn[2]
  bt <- binom.test(k, n, conf.level = cl)
  pt <- suppressWarnings(prop.test(k, n, conf.level = cl, correct = FALSE))
  proportions[[length(proportions) + 1]] <- list(
    k = k, n = n, conf_level = cl,
    exact = list(call = sprintf("binom.test(%d, %d, conf.level = %g)$conf.int", k, n, cl),
                 ci_low = bt$conf.int[1], ci_high = bt$conf.int[2]),
    wilson = list(call = sprintf("prop.test(%d, %d, conf.level = %g, correct = FALSE)$conf.int", k, n, cl),
                  ci_low = pt$conf.int[1], ci_high = pt$conf.int[2]))
}

## --------------------------------------------------------------------------------------------
## rank tests
## --------------------------------------------------------------------------------------------
wx <- list(
  exact_no_ties = list(x = c(0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46),
                       y = c(1.15, 0.88, 0.90, 0.74, 1.21)),
  ties = list(x = c(1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30),
              y = c(0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29)),
  large_no_ties = list(x = sqrt(1:60) * 3 + sin(1:60), y = sqrt(1:55) * 3.1 + cos(1:55)),
  integer_ties = list(x = c(1, 2, 2, 3, 5, 5, 7, 8, 8, 8), y = c(2, 3, 3, 4, 6, 9, 9, 10)),
  far_apart = list(x = c(1.1, 2.2, 3.3, 4.4, 5.5, 6.6, 7.7, 8.8), y = c(10.5, 11.5, 12.5, 13.5, 14.5, 15.5, 16.5, 17.5))
)
wilcoxon <- lapply(names(wx), function(nm) {
  d <- wx[[nm]]
  one <- function(alt, exact, correct) {
    w <- suppressWarnings(wilcox.test(d$x, d$y, alternative = alt, exact = exact, correct = correct))
    list(call = sprintf("wilcox.test(x, y, alternative = '%s', exact = %s, correct = %s)", alt,
                        if (is.null(exact)) "NULL" else exact, correct),
         alternative = alt, exact = if (is.null(exact)) "default" else exact, correct = correct,
         statistic = unname(w$statistic), p = w$p.value, method = w$method)
  }
  runs <- list()
  for (alt in c("two.sided", "less", "greater")) {
    runs[[length(runs) + 1]] <- one(alt, NULL, TRUE)
    runs[[length(runs) + 1]] <- one(alt, FALSE, TRUE)
    runs[[length(runs) + 1]] <- one(alt, FALSE, FALSE)
  }
  list(name = nm, x = I(d$x), y = I(d$y), runs = runs)
})

kw <- list(
  hollander_wolfe = list(c(2.9, 3.0, 2.5, 2.6, 3.2), c(3.8, 2.7, 4.0, 2.4), c(2.8, 3.4, 3.7, 2.2, 2.0)),
  integer_ties = list(c(1, 2, 2, 3, 5), c(2, 3, 3, 4), c(5, 5, 6, 1)),
  four_groups = list(sqrt(1:12), sqrt(1:9) + 0.5, log(2:15), c(3.1, 3.1, 2.2, 4.0, 1.7, 3.3))
)
kruskal <- lapply(names(kw), function(nm) {
  s <- kw[[nm]]
  k <- kruskal.test(s)
  list(name = nm, samples = lapply(s, I), call = "kruskal.test(list(...))",
       statistic = unname(k$statistic), df = unname(k$parameter), p = k$p.value)
})

out <- list(
  description = "R reference values for postcart.stats contingency (chisq.test, fisher.test), proportions (binom.test, prop.test) and ranks (wilcox.test, kruskal.test)",
  script = "tests/reference/r/contingency.R",
  r_version = R.version.string,
  contingency = contingency,
  proportions = proportions,
  wilcoxon = wilcoxon,
  kruskal = kruskal)
writeLines(js(out), "tests/fixtures/r_contingency.json", useBytes = TRUE)
cat("wrote tests/fixtures/r_contingency.json\n")
