# Live R reference for tests/stats/test_live_r_edge.py: R survival on generated edge cases.
#
# Usage: Rscript edge_cases.R DIR
# For every DIR/NAME.csv (columns time, status, and optionally entry, group, x1, x2) writes
# DIR/NAME.json with, at full precision (%.17g; null = NA/NaN/Inf):
#   km.overall / km.by_group.LEVEL: survfit(Surv([entry,] time, status) ~ 1) per conf.type
#       (log-log, log, plain, arcsin, logit): table {time, n_risk, n_event, n_censor, surv,
#       std_err (Greenwood SE of S = surv * std.err), lower, upper} and the median
#       {estimate, lower, upper} (quantile.survfit); at = summary(fit, times = tt) at 0 and the
#       quartiles of the observed times {time, surv, std_err, n_risk, lower, upper}.
#   followup.{conf.type}: reverse-KM median follow-up, quantile(survfit(Surv(time, 1 - status) ~ 1))
#       {estimate, lower, upper} (no entry).
#   rmst: summary(survfit(...), rmean = tau)$table {tau = max time, estimate, se} (no entry).
#   logrank: survdiff(Surv(time, status) ~ group) {groups, observed, expected, chisq, df, p}
#       (no entry, >= 2 groups); df = groups with variance > 0, minus 1 (0 and p = NA if none);
#       rho1 = survdiff(rho = 1) {observed, expected, chisq} (Peto-Peto, weights S(t-)).
#   cox.breslow / cox.efron: coxph(Surv([entry,] time, status) ~ x1 [+ x2], ties = .)
#       {coef, se, loglik (null, fit), score (fit$score), wald (fit$wald.test, unrounded), lr,
#       concordance, concordance_se, zph.{km|identity|rank} = cox.zph(fit, transform)$table
#       {term, chisq, df, p}}
#       ("error" holds the message when R fails, "warning" R's warnings).
#   cox_strata.breslow / cox_strata.efron: the same with + strata(group).
#   cox_group.breslow / cox_group.efron: the same with ~ group (a factor, levels sorted, the
#       first is the reference), when there are >= 2 groups and events.
# Only base R and survival: the JSON writer is the small function below.
suppressPackageStartupMessages(library(survival))

num <- function(x) {
  if (is.null(x) || length(x) == 0) return("[]")
  v <- vapply(as.numeric(x), function(e) {
    if (is.na(e) || !is.finite(e)) "null"
    else if (e == round(e) && abs(e) < 1e15) sprintf("%.0f", e)
    else sprintf("%.17g", e)
  }, "")
  if (length(v) == 1) v else paste0("[", paste(v, collapse = ","), "]")
}
str1 <- function(s) paste0("\"", gsub("\"", "\\\\\"", s), "\"")
to_json <- function(x) {
  if (is.null(x)) return("null")
  if (is.list(x)) {
    inner <- vapply(x, to_json, "")
    if (!is.null(names(x))) {
      return(paste0("{", paste(paste0(str1(names(x)), ":", inner), collapse = ","), "}"))
    }
    return(paste0("[", paste(inner, collapse = ","), "]"))
  }
  if (is.character(x)) return(paste0("[", paste(vapply(x, str1, ""), collapse = ","), "]"))
  num(x)
}

km_block <- function(d, has_entry) {
  out <- list()
  for (ct in c("log-log", "log", "plain", "arcsin", "logit")) {
    f <- if (has_entry) survfit(Surv(entry, time, status) ~ 1, data = d, conf.type = ct)
         else survfit(Surv(time, status) ~ 1, data = d, conf.type = ct)
    q <- quantile(f, probs = 0.5, conf.int = TRUE)
    tt <- sort(unique(c(0, unname(quantile(d$time, c(0.25, 0.5, 0.75), type = 1)))))
    sm <- summary(f, times = tt)
    out[[ct]] <- list(
      at = list(time = tt, surv = sm$surv, std_err = sm$std.err, n_risk = sm$n.risk,
                lower = sm$lower, upper = sm$upper),
      time = f$time, n_risk = f$n.risk, n_event = f$n.event, n_censor = f$n.censor,
      surv = f$surv, std_err = f$surv * f$std.err, lower = f$lower, upper = f$upper,
      median = list(estimate = unname(q$quantile), lower = unname(q$lower), upper = unname(q$upper))
    )
  }
  out
}

cox_block <- function(d, has_entry, covs, ties) {
  rhs <- paste(covs, collapse = " + ")
  lhs <- if (has_entry) "Surv(entry, time, status)" else "Surv(time, status)"
  warned <- character(0)
  res <- tryCatch(withCallingHandlers({
    fit <- coxph(as.formula(paste(lhs, "~", rhs)), data = d, ties = ties)
    list(coef = unname(coef(fit)), se = unname(sqrt(diag(vcov(fit)))), loglik = fit$loglik,
         score = unname(fit$score), wald = unname(fit$wald.test),
         lr = 2 * (fit$loglik[2] - fit$loglik[1]),
         concordance = unname(fit$concordance["concordance"]),
         concordance_se = unname(fit$concordance["std"]),
         zph = lapply(c(km = "km", identity = "identity", rank = "rank"), function(tr) {
           z <- tryCatch(cox.zph(fit, transform = tr)$table, error = function(e) NULL)
           if (is.null(z)) list(error = "cox.zph failed")
           else list(term = rownames(z), chisq = unname(z[, "chisq"]), df = unname(z[, "df"]),
                     p = unname(z[, "p"]))
         }))
  }, warning = function(w) {
    warned <<- c(warned, conditionMessage(w))
    invokeRestart("muffleWarning")
  }), error = function(e) list(error = conditionMessage(e)))
  if (length(warned) > 0) res$warning <- warned
  res
}

dir <- commandArgs(trailingOnly = TRUE)[1]
for (csv in list.files(dir, pattern = "\\.csv$", full.names = TRUE)) {
  d <- read.csv(csv, stringsAsFactors = FALSE)
  has_entry <- "entry" %in% names(d)
  out <- list(km = list(overall = km_block(d, has_entry)))
  if (!has_entry) {
    fu <- list()
    for (ct in c("log-log", "log", "plain")) {
      q <- quantile(survfit(Surv(time, 1 - status) ~ 1, data = d, conf.type = ct), probs = 0.5)
      fu[[ct]] <- list(estimate = unname(q$quantile), lower = unname(q$lower), upper = unname(q$upper))
    }
    out$followup <- fu
    tau <- max(d$time)
    tb <- summary(survfit(Surv(time, status) ~ 1, data = d), rmean = tau)$table
    out$rmst <- list(tau = tau, estimate = unname(tb["rmean"]), se = unname(tb["se(rmean)"]))
  }
  if ("group" %in% names(d)) {
    d$group <- as.character(d$group)
    by <- list()
    for (g in sort(unique(d$group))) by[[g]] <- km_block(d[d$group == g, , drop = FALSE], has_entry)
    out$km$by_group <- by
    if (!has_entry && length(unique(d$group)) > 1) {
      sd <- tryCatch({
        s <- survdiff(Surv(time, status) ~ group, data = d)
        df <- max(sum(diag(s$var) > 0) - 1, 0)
        s1 <- survdiff(Surv(time, status) ~ group, data = d, rho = 1)
        list(groups = sub("^group=", "", names(s$n)), observed = s$obs, expected = s$exp,
             chisq = s$chisq, df = df, p = if (df > 0) pchisq(s$chisq, df, lower.tail = FALSE) else NA,
             rho1 = list(observed = s1$obs, expected = s1$exp, chisq = s1$chisq))
      }, error = function(e) list(error = conditionMessage(e)))
      out$logrank <- sd
    }
  }
  covs <- intersect(c("x1", "x2"), names(d))
  if (length(covs) > 0 && nrow(d) > 1) {
    out$cox <- list(breslow = cox_block(d, has_entry, covs, "breslow"),
                    efron = cox_block(d, has_entry, covs, "efron"))
  }
  if (length(covs) > 0 && "group" %in% names(d) && nrow(d) > 1) {
    out$cox_strata <- list(
      breslow = cox_block(d, has_entry, c(covs, "strata(group)"), "breslow"),
      efron = cox_block(d, has_entry, c(covs, "strata(group)"), "efron"))
  }
  if ("group" %in% names(d) && length(unique(d$group)) > 1 && sum(d$status) > 0) {
    out$cox_group <- list(breslow = cox_block(d, has_entry, "group", "breslow"),
                          efron = cox_block(d, has_entry, "group", "efron"))
  }
  writeLines(to_json(out), sub("\\.csv$", ".json", csv))
}
