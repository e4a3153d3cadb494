;;; Emacs 28 + eglot 1.9 in --batch, a real push-only LSP client, configured by the recipe of
;;; docs/editors/other.md loaded verbatim: opening the spec starts eglot, diagnostics while
;;; typing, a quick fix, a run (each step told by window/showMessage), an approval seen as a
;;; flymake diagnostic on the spec line and approved with a code action.  Usage:
;;; emacs --batch -Q -l eglot_run_and_approve.el RECIPE WITH-MARKDOWN-MODE(1|0) SPEC OUT
(require 'cl-lib)
(require 'json)

(defvar t-recipe (nth 0 command-line-args-left))
(defvar t-markdown (equal (nth 1 command-line-args-left) "1"))
(defvar t-spec (nth 2 command-line-args-left))
(defvar t-out (nth 3 command-line-args-left))
(setq command-line-args-left nil)
(defvar t-result nil)
(defvar t-shown nil)

;; What Debian's startup does (-Q skips it): activate the packages in its elpa dir, each one's
;; load-path and autoloads. Without WITH-MARKDOWN-MODE, as if elpa-markdown-mode were not there.
(dolist (d (file-expand-wildcards "/usr/share/emacs/site-lisp/elpa/*"))
  (unless (and (not t-markdown) (string-match-p "/markdown-mode-" d))
    (add-to-list 'load-path d)
    (dolist (a (file-expand-wildcards (expand-file-name "*-autoloads.el" d)))
      (load a nil t))))

(defun t-note (key value) (push (cons key value) t-result))

(defun t-finish (ok why)
  (t-note 'ok (if ok t :json-false))
  (t-note 'why why)
  (t-note 'shown (vconcat (reverse t-shown)))
  (with-temp-file t-out (insert (json-encode t-result)))
  (kill-emacs 0))

(defun t-wait (pred secs)
  (let ((deadline (+ (float-time) secs)) (v nil))
    (while (and (not (setq v (funcall pred))) (< (float-time) deadline))
      (accept-process-output nil 0.05))
    v))

(defun t-diags (&optional needle)
  (cl-remove-if-not
   (lambda (d) (or (null needle) (string-match-p needle (flymake-diagnostic-text d))))
   (flymake-diagnostics (point-min) (point-max))))

(defun t-pick-action (diag title-pred)
  "Run the code action of DIAG whose title satisfies TITLE-PRED through eglot's own menu."
  (cl-letf (((symbol-function 'completing-read)
             (lambda (_prompt items &rest _)
               (let ((titles (mapcar #'car items)))
                 (t-note 'action-titles (vconcat titles))
                 (or (cl-find-if title-pred titles) (car titles))))))
    (let ((last-nonmenu-event ?a))  ; not a mouse event: eglot asks with completing-read
      (eglot-code-actions (flymake-diagnostic-beg diag) (flymake-diagnostic-end diag) nil t))))

(condition-case err
    (progn
      (load t-recipe nil t)             ; docs/editors/other.md's block, verbatim
      ;; every window/showMessage the server sends, as eglot receives it
      (cl-defmethod eglot-handle-notification :before
        (_server (_method (eql window/showMessage)) &key _type message)
        (push message t-shown))
      (find-file t-spec)
      (t-note 'mode (symbol-name major-mode))
      (run-hooks 'post-command-hook)    ; the end of the find-file command: eglot-ensure connects
      (unless (t-wait (lambda () (eglot-current-server)) 30)
        (t-finish nil "eglot did not start"))
      (flymake-start)
      ;; 1. type a mistake: "# Goal" becomes "## Goal"; a diagnostic arrives by push
      (goto-char (point-min))
      (insert "#")
      (eglot--signal-textDocument/didChange)
      (flymake-start)
      (let ((d (t-wait (lambda () (car (t-diags))) 20)))
        (unless d (t-finish nil "no diagnostic after typing"))
        (t-note 'typed (flymake-diagnostic-text d))
        ;; 2. quick fix it
        (goto-char (flymake-diagnostic-beg d))
        (t-pick-action d (lambda (title) (string-match-p "#" title))))
      (eglot--signal-textDocument/didChange)
      (flymake-start)
      (t-note 'fixed-first-line (buffer-substring (point-min) (line-end-position 1)))
      (unless (t-wait (lambda () (null (t-diags))) 20)
        (t-finish nil "diagnostics did not clear after the quick fix"))
      (save-buffer)
      ;; 3. run the spec with the recipe's command; the approval shows on the plan step's line
      (harness-run-spec)
      (let ((a (t-wait (lambda () (flymake-start) (car (t-diags "Approval needed"))) 60)))
        (unless a (t-finish nil "no approval diagnostic"))
        (t-note 'approval (flymake-diagnostic-text a))
        (t-note 'approval-line (line-number-at-pos (flymake-diagnostic-beg a)))
        ;; 4. approve it with the code action
        (t-pick-action a (lambda (title) (and (string-prefix-p "Approve" title)
                                              (not (string-match-p "similar" title))))))
      (t-note 'cleared (if (t-wait (lambda () (flymake-start) (null (t-diags "Approval needed"))) 60)
                           t :json-false))
      ;; 5. the approved write lands, and the run's end is told
      (let ((greet (expand-file-name "greet.txt" (project-root (project-current)))))
        (t-note 'written
                (if (t-wait (lambda ()
                              (with-temp-buffer
                                (insert-file-contents greet)
                                (equal (buffer-string) "hello\n")))
                            60)
                    t :json-false)))
      (t-wait (lambda () (cl-some (lambda (m) (string-match-p "completed" m)) t-shown)) 60)
      (t-finish t "done"))
  (error (t-finish nil (format "error: %S" err))))
