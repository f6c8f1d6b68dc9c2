//! The panel's actions (`scripts.*`, on its root widget), its keyboard shortcuts (Ctrl+Return
//! check, Ctrl+S save, Ctrl+B backtest), and the questions it asks first: discarding unsaved
//! changes, deleting a script, running live.

use std::rc::Rc;

use adw::prelude::*;
use gtk::{gio, glib};

use super::{Inner, TEMPLATE};
use crate::gui::boundary::{RunMode, ScriptsCommand};

pub fn install(inner: &Rc<Inner>) {
    let group = &inner.actions;
    let add = |name: &str, act: fn(&Rc<Inner>)| {
        let action = gio::SimpleAction::new(name, None);
        let weak = Rc::downgrade(inner);
        action.connect_activate(move |_, _| {
            if let Some(inner) = weak.upgrade() {
                act(&inner);
            }
        });
        group.add_action(&action);
    };
    add("new", |inner| {
        confirm_discard(inner, |inner| inner.open_text("", TEMPLATE, None));
    });
    add("delete", delete);
    add("check", |inner| inner.check_now(true));
    add("save", |inner| {
        inner.ctx.commands.send(ScriptsCommand::Save {
            name: inner.script_name(),
            source: inner.editor.text(),
        });
    });
    add("backtest", backtest);
    add("run-paper", |inner| run(inner, RunMode::Paper));
    add("run-live", |inner| run(inner, RunMode::Live));
    add("stop", |inner| {
        let instance = inner.state.borrow().instance.clone();
        if let Some(instance) = instance {
            inner.ctx.commands.send(ScriptsCommand::Stop { instance });
        }
    });
    add("reload", |inner| {
        let Some(instance) = inner.state.borrow().instance.clone() else {
            return;
        };
        inner
            .run
            .console
            .note("reloading with the text in the editor");
        inner.ctx.commands.send(ScriptsCommand::Reload {
            instance,
            name: inner.script_name(),
            source: inner.editor.text(),
            keep_state: inner.run.keep_state.is_active(),
        });
    });
    let open = gio::SimpleAction::new("open-example", Some(glib::VariantTy::STRING));
    let weak = Rc::downgrade(inner);
    open.connect_activate(move |_, target| {
        if let (Some(inner), Some(name)) = (weak.upgrade(), target.and_then(|t| t.get::<String>()))
        {
            confirm_discard(&inner, move |inner| inner.open_example(&name));
        }
    });
    group.add_action(&open);
    inner.root.insert_action_group("scripts", Some(group));

    let shortcuts = gtk::ShortcutController::new();
    shortcuts.set_propagation_phase(gtk::PropagationPhase::Capture);
    for (accel, action) in [
        ("<Control>Return", "scripts.check"),
        ("<Control>KP_Enter", "scripts.check"),
        ("<Control>s", "scripts.save"),
        ("<Control>b", "scripts.backtest"),
    ] {
        shortcuts.add_shortcut(gtk::Shortcut::new(
            gtk::ShortcutTrigger::parse_string(accel),
            Some(gtk::NamedAction::new(action)),
        ));
    }
    inner.root.add_controller(shortcuts);
}

fn window(inner: &Inner) -> Option<gtk::Window> {
    inner.root.root().and_downcast::<gtk::Window>()
}

fn ask(
    inner: &Inner,
    heading: &str,
    body: &str,
    (answer, label): (&str, &str),
    name: &str,
    then: impl Fn() + 'static,
) {
    let dialog = adw::MessageDialog::new(window(inner).as_ref(), Some(heading), Some(body));
    dialog.add_responses(&[("cancel", "_Cancel"), (answer, label)]);
    dialog.set_response_appearance(answer, adw::ResponseAppearance::Destructive);
    dialog.set_default_response(Some("cancel"));
    dialog.set_close_response("cancel");
    dialog.set_widget_name(name);
    let answer = answer.to_owned();
    dialog.connect_response(None, move |_, response| {
        if response == answer {
            then();
        }
    });
    dialog.present();
}

/// Runs `then` at once, or after the trader agreed to lose the unsaved changes.
pub fn confirm_discard(inner: &Rc<Inner>, then: impl Fn(&Rc<Inner>) + 'static) {
    if !inner.state.borrow().dirty {
        return then(inner);
    }
    let weak = Rc::downgrade(inner);
    ask(
        inner,
        &format!("Discard the changes to {}?", inner.script_name()),
        "They were not saved. Save first (Ctrl+S) to keep them.",
        ("discard", "_Discard"),
        "scripts-confirm-discard",
        move || {
            if let Some(inner) = weak.upgrade() {
                then(&inner);
            }
        },
    );
}

fn delete(inner: &Rc<Inner>) {
    let Some(name) = inner.state.borrow().stored.clone() else {
        return;
    };
    let commands = inner.ctx.commands.clone();
    ask(
        inner,
        &format!("Delete {name}?"),
        "The script is removed from the database; its past backtests stay.",
        ("delete", "_Delete"),
        "scripts-confirm-delete",
        move || {
            commands.send(ScriptsCommand::Delete { name: name.clone() });
        },
    );
}

fn backtest(inner: &Rc<Inner>) {
    let params = match inner.params.values() {
        Ok(params) => params,
        Err(problem) => return inner.backtest.refuse(&problem),
    };
    let request = {
        let mut state = inner.state.borrow_mut();
        state.backtest_request += 1;
        state.backtest_request
    };
    let name = inner.script_name();
    match inner
        .backtest
        .request(request, &name, &inner.editor.text(), params)
    {
        Ok(request) => {
            inner.backtest.set_running(true);
            inner
                .run
                .console
                .note(&format!("backtest of {name} on {}", request.symbol));
            inner
                .ctx
                .commands
                .send(ScriptsCommand::Backtest(Box::new(request)));
        }
        Err(problem) => inner.backtest.refuse(&problem),
    }
}

fn run(inner: &Rc<Inner>, mode: RunMode) {
    inner.tabs.set_current_page(Some(1));
    let params = match inner.params.values() {
        Ok(params) => params,
        Err(problem) => {
            return inner
                .run
                .status
                .set_text(&format!("Not started: {problem}"));
        }
    };
    let account = inner.ctx.shared.borrow().account.clone();
    let name = inner.script_name();
    let request = match inner
        .run
        .request(&name, &inner.editor.text(), params, account, mode)
    {
        Ok(request) => request,
        Err(problem) => {
            return inner
                .run
                .status
                .set_text(&format!("Not started: {problem}"));
        }
    };
    if mode == RunMode::Paper {
        inner.run.console.note(&format!("starting {name} on paper"));
        inner
            .ctx
            .commands
            .send(ScriptsCommand::Run(Box::new(request)));
        return;
    }
    let checked = inner.state.borrow().checked.clone();
    let sha = match checked {
        Some(Ok(checked)) => checked.content_sha256,
        Some(Err(error)) => {
            return inner.run.status.set_text(&format!(
                "Not started: the script does not compile ({error})"
            ));
        }
        None => tickwork_core::scripting::strategy::content_sha256(&request.source),
    };
    let commands = inner.ctx.commands.clone();
    let console = inner.run.console.clone();
    let account = request.account.clone();
    ask(
        inner,
        &format!("Run {name} live on {account}?"),
        &format!(
            "Its orders go to TWS for account {account} through the risk gate, as long as the \
             account is armed. This allows exactly this text (content {}…) to trade the \
             account; any edit needs your confirmation again.",
            &sha[..12.min(sha.len())]
        ),
        ("run", "_Run live"),
        "scripts-confirm-live",
        move || {
            let mut request = request.clone();
            request.grant = true;
            console.note(&format!(
                "starting {} live on {}",
                request.name, request.account
            ));
            commands.send(ScriptsCommand::Run(Box::new(request)));
        },
    );
}
