//! The running instances of a strategy manager (Rhai scripts or plugin strategies), by id:
//! one of each id at a time, listed while their task runs, stopped through their command
//! channel and awaited.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// One running instance: what is listed, where its commands go, its task.
struct Running<I, C> {
    info: I,
    commands: mpsc::Sender<C>,
    task: JoinHandle<()>,
}

/// The instances by id; cheap to clone.
pub(crate) struct Instances<I, C> {
    map: Arc<Mutex<HashMap<String, Running<I, C>>>>,
}

impl<I, C> Clone for Instances<I, C> {
    fn clone(&self) -> Self {
        Self {
            map: self.map.clone(),
        }
    }
}

impl<I, C> Default for Instances<I, C> {
    fn default() -> Self {
        Self {
            map: Arc::default(),
        }
    }
}

impl<I: Clone, C> Instances<I, C> {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Running<I, C>>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The instances whose task still runs, by id.
    pub fn list(&self) -> Vec<I> {
        let map = self.lock();
        let mut ids: Vec<&String> = map
            .iter()
            .filter(|(_, r)| !r.task.is_finished())
            .map(|(id, _)| id)
            .collect();
        ids.sort();
        ids.into_iter().map(|id| map[id].info.clone()).collect()
    }

    /// Fails when `id` is running (forgetting instances that ended by themselves).
    pub fn check_free(&self, id: &str) -> Result<(), String> {
        let mut map = self.lock();
        map.retain(|_, r| !r.task.is_finished());
        if map.contains_key(id) {
            return Err(format!("{id} is already running"));
        }
        Ok(())
    }

    pub fn insert(&self, id: String, info: I, commands: mpsc::Sender<C>, task: JoinHandle<()>) {
        let running = Running {
            info,
            commands,
            task,
        };
        self.lock().insert(id, running);
    }

    /// Its command channel and info, while it is listed.
    pub fn get(&self, id: &str) -> Option<(mpsc::Sender<C>, I)> {
        self.lock()
            .get(id)
            .map(|r| (r.commands.clone(), r.info.clone()))
    }

    /// Changes the listed info of an instance.
    pub fn update(&self, id: &str, change: impl FnOnce(&mut I)) {
        if let Some(running) = self.lock().get_mut(id) {
            change(&mut running.info);
        }
    }

    /// Stops every instance, one after the other.
    pub async fn stop_all(&self, stop: impl Fn(oneshot::Sender<()>) -> C) {
        let ids: Vec<String> = self.lock().keys().cloned().collect();
        for id in ids {
            let _ = self.stop(&id, &stop).await;
        }
    }

    /// Sends the stop command `stop` makes and waits for the answer and the task.
    pub async fn stop(
        &self,
        id: &str,
        stop: impl FnOnce(oneshot::Sender<()>) -> C,
    ) -> Result<(), String> {
        let running = self
            .lock()
            .remove(id)
            .ok_or_else(|| format!("{id} is not running"))?;
        let (done, stopped) = oneshot::channel();
        if running.commands.send(stop(done)).await.is_ok() {
            let _ = stopped.await;
        }
        let _ = running.task.await;
        Ok(())
    }

    /// Waits until an instance has ended by itself.
    pub async fn finished(&self, id: &str) {
        let task = self.lock().remove(id).map(|r| r.task);
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}
